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
		MaxTrials: trials, Seed: seed, Storage: hpotest.At(dir)})
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

// view is an hpo.View of the given trials, all completed.
type view struct {
	trials map[hpo.TrialID]hpo.Trial
}

func (v view) Trial(id hpo.TrialID) (hpo.Trial, bool) { t, ok := v.trials[id]; return t, ok }
func (v view) NextTrial() (hpo.TrialID, bool)         { return hpo.TrialID(len(v.trials)), true }
func (v view) Metric() hpo.Metric                     { return hpotest.Acc }
func (v view) Now() time.Duration                     { return 0 }

// Mutation sets the per-gene mutation probability: MutationProb reports it
// (1/len(Space) by default, 0 when negative), and the children's genes
// mutate at that rate. The population is P copies of one configuration
// with every Float gene in the middle of its domain, and crossover is off,
// so a child's Float gene differs from the parents' exactly when it
// mutated (the Gaussian noise added to its unit-cube coordinate, 0.5, is
// never exactly 0, and clamping moves it to a bound). With 12,000 genes
// (2,000 children of 6 Float genes) the standard error of the frequency
// is at most 0.0046; the tolerance is 0.03, and the draws are fixed by the
// seed.
func TestMutationProb(t *testing.T) {
	const P, children = 10, 2000
	parent := hpo.Config{"k": 7, "c": "c"}
	for i := range 6 {
		parent[fmt.Sprint("x", i)] = 0.0
	}
	trials := map[hpo.TrialID]hpo.Trial{}
	for id := range hpo.TrialID(P) {
		trials[id] = hpo.Trial{ID: id, Config: parent, Status: hpo.Completed,
			Results: []hpo.Result{{Budget: 1, Metrics: map[string]float64{"acc": 0.5}}}}
	}
	for _, tt := range []struct {
		mutation, want float64
	}{
		{0, 1.0 / 8}, {-1, 0}, {0.3, 0.3}, {1, 1},
	} {
		t.Run(fmt.Sprint("mutation=", tt.mutation), func(t *testing.T) {
			s, err := genetic.New(genetic.Config{Space: mixedSpace(), PopulationSize: P, Crossover: -1,
				Mutation: tt.mutation, SteadyState: true, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.MutationProb(); got != tt.want {
				t.Fatalf("MutationProb() = %v, want %v", got, tt.want)
			}
			mutated := 0
			for id := hpo.TrialID(P); id < P+children; id++ {
				c, err := s.Suggest(view{trials}, id)
				if err != nil {
					t.Fatal(err)
				}
				for i := range 6 {
					if c.Float(fmt.Sprint("x", i)) != 0 {
						mutated++
					}
				}
			}
			freq := float64(mutated) / (6 * children)
			switch tt.want {
			case 0, 1:
				if freq != tt.want {
					t.Fatalf("%d of %d genes mutated, want all or none at probability %v", mutated, 6*children, tt.want)
				}
			default:
				if math.Abs(freq-tt.want) > 0.03 {
					t.Fatalf("genes mutated with frequency %.4f, want %v ± 0.03", freq, tt.want)
				}
			}
		})
	}
}
