package genetic_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/genetic"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/internal/killtest"
	"github.com/hgdtune/hgdtune/hpo/internal/stattest"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

// mixedSpace has a known optimum: x_i = 0.7 (i < 6), k = 7, c = "c".
func mixedSpace() hpo.Space {
	s := hpo.Space{
		{Name: "k", Domain: hpo.Int{Low: 1, High: 20}},
		{Name: "c", Domain: hpo.Choice{Values: []any{"a", "b", "c", "d"}}},
	}
	for i := range 6 {
		s = append(s, hpo.Param{Name: fmt.Sprint("x", i), Domain: hpo.Float{Low: -5, High: 5}})
	}
	return s
}

// objective is 1 at the optimum and decreases with the distance to it.
func objective(c hpo.Config) float64 {
	d := 0.0
	for i := range 6 {
		x := c.Float(fmt.Sprint("x", i)) - 0.7
		d += x * x / 25
	}
	d += math.Abs(float64(c.Int("k")-7)) / 20
	if c.String("c") != "c" {
		d += 0.3
	}
	return 1 / (1 + 10*d)
}

// sphere is a trainable whose accuracy is objective(cfg), reached after
// any training.
type sphere struct {
	cfg  hpo.Config
	step int
}

func (s *sphere) Train(_ context.Context, until int) (hpo.Result, error) {
	s.step = until
	return hpo.Result{Metrics: map[string]float64{"acc": objective(s.cfg)}}, nil
}
func (s *sphere) Save(dir string) error {
	return os.WriteFile(filepath.Join(dir, "s"), []byte(strconv.Itoa(s.step)), 0o644)
}
func (s *sphere) Restore(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "s"))
	if err == nil {
		s.step, err = strconv.Atoi(string(b))
	}
	return err
}
func (s *sphere) Close() error { return nil }

func sphereFactory(_ context.Context, _ hpo.TrialID, c hpo.Config) (hpo.Trainable, error) {
	return &sphere{cfg: c}, nil
}

func TestValidate(t *testing.T) {
	good := genetic.Config{Space: mixedSpace(), PopulationSize: 10}
	tests := []struct {
		name string
		edit func(*genetic.Config)
		ok   bool
	}{
		{"defaults", func(*genetic.Config) {}, true},
		{"population 1", func(c *genetic.Config) { c.PopulationSize = 1 }, false},
		{"elite ≥ population", func(c *genetic.Config) { c.Elite = 10 }, false},
		{"no elite", func(c *genetic.Config) { c.Elite = -1 }, true},
		{"crossover 2", func(c *genetic.Config) { c.Crossover = 2 }, false},
		{"mutation 1.5", func(c *genetic.Config) { c.Mutation = 1.5 }, false},
		{"negative sigma", func(c *genetic.Config) { c.Sigma = -1 }, false},
		{"negative tournament", func(c *genetic.Config) { c.Tournament = -2 }, false},
		{"negative generations", func(c *genetic.Config) { c.Generations = -1 }, false},
		{"empty space", func(c *genetic.Config) { c.Space = nil }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			_, err := genetic.New(c)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, hpo.ErrInvalid)) {
				t.Fatalf("New = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func run(t testing.TB, s hpo.Searcher, slots, trials int, seed uint64, dir string) *hpo.Report {
	t.Helper()
	rep, err := hpo.Run(context.Background(), hpo.Experiment{Space: mixedSpace(), Metric: hpotest.Acc,
		Factory: sphereFactory, Scheduler: &hpo.FIFO{MaxBudget: 1}, Searcher: s, Slots: slots,
		MaxTrials: trials, Seed: seed, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// Generations: trial id is in generation id/P, and no trial of generation
// g starts before every trial of generation g−1 has ended.
func TestGenerations(t *testing.T) {
	for _, slots := range []int{1, 3, 7} {
		t.Run(fmt.Sprint("slots=", slots), func(t *testing.T) {
			s, _ := genetic.New(genetic.Config{Space: mixedSpace(), PopulationSize: 6, Generations: 4, Seed: 1})
			dir := t.TempDir()
			rep := run(t, s, slots, 0, 1, dir)
			if len(rep.Trials) != 24 || rep.Reason != "searcher exhausted" {
				t.Fatalf("%d trials, reason %q", len(rep.Trials), rep.Reason)
			}
			events, _, err := hpo.ReadJournal(filepath.Join(dir, "journal.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			ended := map[hpo.TrialID]bool{}
			for _, e := range events {
				switch {
				case e.Kind == hpo.EvStatus && (e.Status == "completed" || e.Status == "failed"):
					ended[e.Trial] = true
				case e.Kind == hpo.EvTrial:
					g := int(e.Trial) / 6
					for j := (g - 1) * 6; j >= 0 && j < g*6; j++ {
						if !ended[hpo.TrialID(j)] {
							t.Fatalf("trial %d created before trial %d ended", e.Trial, j)
						}
					}
				}
			}
		})
	}
}

// Deterministic: the same seed gives the same configurations, whatever
// the number of slots (the generational mode reads only finished
// generations).
func TestDeterministic(t *testing.T) {
	s1, _ := genetic.New(genetic.Config{Space: mixedSpace(), PopulationSize: 5, Generations: 3, Seed: 4})
	s2, _ := genetic.New(genetic.Config{Space: mixedSpace(), PopulationSize: 5, Generations: 3, Seed: 4})
	a, b := run(t, s1, 1, 0, 1, ""), run(t, s2, 4, 0, 1, "")
	for i := range a.Trials {
		ja, _ := json.Marshal(a.Trials[i].Config)
		jb, _ := json.Marshal(b.Trials[i].Config)
		if string(ja) != string(jb) {
			t.Fatalf("trial %d: %s vs %s", i, ja, jb)
		}
	}
}

// TestBeatsRandom: on the mixed 8-parameter problem (6 floats, an int, a
// categorical; known optimum, value 1), with 100 trials each, both modes
// of the genetic algorithm against random search over 12 seeds; one-sided
// paired sign test at p < 0.01 (≥ 11 wins of 12).
func TestBeatsRandom(t *testing.T) {
	for _, steady := range []bool{false, true} {
		t.Run(fmt.Sprint("steady=", steady), func(t *testing.T) {
			const trials = 100
			stattest.BeatsRandom(t, "genetic", 12, func(seed uint64) (float64, float64) {
				s, _ := genetic.New(genetic.Config{Space: mixedSpace(), PopulationSize: 10, SteadyState: steady, Seed: seed})
				g, _ := run(t, s, 1, trials, seed, "").Best()
				r, _ := run(t, &hpo.Random{Space: mixedSpace(), Seed: seed}, 1, trials, seed, "").Best()
				return g.Metrics["acc"], r.Metrics["acc"]
			})
		})
	}
}

func killExperiment(dir string, slots int) hpo.Experiment {
	s, err := genetic.New(genetic.Config{Space: synthetic.Space(), PopulationSize: 6, Generations: 4, Seed: 3})
	if err != nil {
		panic(err)
	}
	return hpotest.KillExperiment(&hpo.FIFO{MaxBudget: 8, Step: 4}, s, 2*time.Millisecond, dir, slots)
}

func TestKillChild(t *testing.T) { killtest.Child(t, killExperiment) }

func TestKillAndResume(t *testing.T) {
	killtest.KillAndResumeSlots(t, killExperiment, killtest.Options{})
}
