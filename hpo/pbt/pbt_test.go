package pbt_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/pbt"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

func mustNew(t testing.TB, c pbt.Config) *pbt.Scheduler {
	t.Helper()
	return hpotest.MustNew(t, pbt.New, c)
}

func TestConfigValidate(t *testing.T) {
	good := pbt.Config{Space: synthetic.Space(), PopulationSize: 4, Interval: 2, MaxBudget: 10}
	tests := []struct {
		name string
		edit func(*pbt.Config)
		ok   bool
	}{
		{"defaults", func(*pbt.Config) {}, true},
		{"population 1", func(c *pbt.Config) { c.PopulationSize = 1 }, false},
		{"interval 0", func(c *pbt.Config) { c.Interval = 0 }, false},
		{"max below interval", func(c *pbt.Config) { c.MaxBudget = 1 }, false},
		{"quantile 0.6", func(c *pbt.Config) { c.Quantile = 0.6 }, false},
		{"quantile 0.5", func(c *pbt.Config) { c.Quantile = 0.5 }, true},
		{"negative quantile", func(c *pbt.Config) { c.Quantile = -0.1 }, false},
		{"resample 2", func(c *pbt.Config) { c.ResampleProb = 2 }, false},
		{"no resample", func(c *pbt.Config) { c.ResampleProb = -1 }, true},
		{"bad factors", func(c *pbt.Config) { c.Factors = [2]float64{1.1, 1.2} }, false},
		{"unknown mutable", func(c *pbt.Config) { c.Mutable = []string{"nope"} }, false},
		{"empty space", func(c *pbt.Config) { c.Space = nil }, false},
		{"too many initial", func(c *pbt.Config) { c.Initial = make([]hpo.Config, 5) }, false},
		{"bad initial", func(c *pbt.Config) { c.Initial = []hpo.Config{{"lr": 5.0}} }, false},
		{"good initial", func(c *pbt.Config) { c.Initial = []hpo.Config{synthetic.Optimum()} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			_, err := pbt.New(c)
			if tt.ok != (err == nil) {
				t.Fatalf("New = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, hpo.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestPopulationRuns(t *testing.T) {
	for _, slots := range []int{1, 3, 8} {
		t.Run(fmt.Sprintf("slots=%d", slots), func(t *testing.T) {
			s := mustNew(t, pbt.Config{Space: synthetic.Space(), PopulationSize: 8, Interval: 4, MaxBudget: 40, Seed: 1})
			e, _ := hpotest.Synth(s, slots, 2, 0.01, t.TempDir())
			rep := hpotest.RunPopulation(t, e)
			if len(rep.Trials) != 8 {
				t.Fatalf("%d trials", len(rep.Trials))
			}
			for _, tr := range rep.Trials {
				if tr.Budget != 40 {
					t.Fatalf("trial %d: %v at %d", tr.ID, tr.Status, tr.Budget)
				}
				if tr.Group != int(tr.ID) {
					t.Fatalf("trial %d in group %d", tr.ID, tr.Group)
				}
			}
			exploits := countExploits(t, hpotest.Folder(e))
			if exploits == 0 {
				t.Fatal("no exploit")
			}
			t.Logf("%d exploits, %d results", exploits, len(rep.Records))
		})
	}
}

// countExploits checks that every exploit decision in the journal is
// followed by its checkpoint copy and returns the number of exploits.
func countExploits(t *testing.T, dir string) int {
	t.Helper()
	events, _, err := hpo.ReadJournal(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, e := range events {
		if e.Kind != hpo.EvDecision || e.Action != "exploit" {
			continue
		}
		n++
		if e.From == nil || len(e.Config) == 0 {
			t.Fatalf("exploit without donor or config: %+v", e)
		}
		if *e.From != e.Trial {
			c := events[i+1]
			if c.Kind != hpo.EvCheckpoint || c.From == nil || *c.From != *e.From || c.Trial != e.Trial {
				t.Fatalf("exploit at seq %d not followed by its checkpoint copy: %+v", e.Seq, c)
			}
		}
	}
	return n
}

// A population whose configuration cannot change in some parameters keeps
// them; explored values stay in their domains.
func TestMutableAndDomains(t *testing.T) {
	s := mustNew(t, pbt.Config{Space: synthetic.Space(), PopulationSize: 6, Interval: 2, MaxBudget: 30,
		Mutable: []string{"lr", "momentum"}, Seed: 4})
	e, _ := hpotest.Synth(s, 2, 5, 0.01, "")
	rep, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	initial := map[hpo.TrialID]hpo.Config{}
	changed := 0
	for _, rec := range rep.Records {
		c0, ok := initial[rec.Trial]
		if !ok {
			initial[rec.Trial] = rec.Config
			continue
		}
		if _, err := e.Space.Normalize(rec.Config); err != nil {
			t.Fatalf("config out of its domain: %v", err)
		}
		if rec.Config.Float("lr") != c0.Float("lr") {
			changed++
		}
	}
	if changed == 0 {
		t.Fatal("no learning rate explored")
	}
	// layers and optimizer only change by copying a donor: every value
	// seen must be one of the initial population's.
	seen := map[string]bool{}
	for _, c := range initial {
		seen[fmt.Sprint(c.Int("layers"), c.String("optimizer"))] = true
	}
	for _, rec := range rep.Records {
		if !seen[fmt.Sprint(rec.Config.Int("layers"), rec.Config.String("optimizer"))] {
			t.Fatalf("immutable parameters explored: %v", rec.Config)
		}
	}
}

// reconfigurable wraps a synthetic trainable and answers Reconfigure with
// err (nil: reconfigured in place).
type reconfigurable struct {
	*synthetic.Trainable
	err error
}

func (r reconfigurable) Reconfigure(cfg hpo.Config) error {
	if r.err != nil {
		return r.err
	}
	return r.Trainable.Reconfigure(cfg)
}

// A trainable whose Reconfigure answers hpo.ErrRebuild is rebuilt with the
// factory (no trial fails, same results as reconfiguring in place, more
// trainables built); any other Reconfigure error fails its trial.
func TestReconfigureRebuild(t *testing.T) {
	run := func(t *testing.T, err error) (*hpo.Report, int64, int) {
		s := mustNew(t, pbt.Config{Space: synthetic.Space(), PopulationSize: 4, Interval: 3, MaxBudget: 15, Seed: 9})
		e, p := hpotest.Synth(s, 4, 3, 0.01, t.TempDir())
		// On compute time the results come in the order of their virtual
		// ends, whatever the machine's load: the same exploits every time.
		e.Cost = p.Cost
		var built atomic.Int64
		e.Factory = func(_ context.Context, id hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
			built.Add(1)
			st, err2 := p.New(cfg)
			if err2 != nil {
				return nil, err2
			}
			return reconfigurable{st, err}, nil
		}
		rep, runErr := hpo.Run(context.Background(), e)
		if runErr != nil {
			t.Fatal(runErr)
		}
		return rep, built.Load(), countExploits(t, hpotest.Folder(e))
	}
	// Rebuilding: every exploit builds a new trainable.
	rebuilt, built, exploits := run(t, fmt.Errorf("new width: %w", hpo.ErrRebuild))
	if exploits == 0 {
		t.Fatal("no exploit: the test checks nothing")
	}
	if want := int64(4 + exploits); built != want {
		t.Fatalf("%d trainables built for a population of 4 and %d exploits, want %d", built, exploits, want)
	}
	for _, rec := range rebuilt.Records {
		if rec.Status == hpo.Failed {
			t.Fatalf("trial %d failed: %s", rec.Trial, rec.Err)
		}
	}
	// Any other error fails the trial.
	failing, _, _ := run(t, errors.New("cannot"))
	failed := 0
	for _, tr := range failing.Trials {
		if tr.Status == hpo.Failed {
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("a Reconfigure error other than ErrRebuild failed no trial")
	}
}

// The PBT paper's toy problem (Jaderberg et al. 2017, section 4 / figure 2):
// maximize Q(θ) = 1.2 − (θ₀² + θ₁²) when training only sees the surrogate
// Q̂(θ|h) = 1.2 − (h₀θ₀² + h₁θ₁²). Two members start at θ = (0.9, 0.9) with
// h = (1, 0) and (0, 1); each step is a gradient ascent step on Q̂; every 4
// steps the worse member copies the better one's θ and h and explores h.
type toy struct {
	h     [2]float64
	theta [2]float64
	step  int
}

const toyLR = 0.02

func (q *toy) Train(_ context.Context, until int) (hpo.Result, error) {
	for ; q.step < until; q.step++ {
		for i := range q.theta {
			q.theta[i] += toyLR * (-2 * q.h[i] * q.theta[i]) // ∇Q̂
		}
	}
	Q := 1.2 - (q.theta[0]*q.theta[0] + q.theta[1]*q.theta[1])
	return hpo.Result{Metrics: map[string]float64{"Q": Q}}, nil
}

func (q *toy) Save(dir string) error {
	b, _ := json.Marshal([3]float64{q.theta[0], q.theta[1], float64(q.step)})
	return os.WriteFile(filepath.Join(dir, "theta.json"), b, 0o644)
}

func (q *toy) Restore(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "theta.json"))
	if err != nil {
		return err
	}
	var s [3]float64
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	q.theta, q.step = [2]float64{s[0], s[1]}, int(s[2])
	return nil
}

func (q *toy) Close() error { return nil }

func TestToyProblem(t *testing.T) {
	space := hpo.Space{{Name: "h0", Domain: hpo.Float{Low: 0, High: 1}}, {Name: "h1", Domain: hpo.Float{Low: 0, High: 1}}}
	factory := func(_ context.Context, _ hpo.TrialID, c hpo.Config) (hpo.Trainable, error) {
		return &toy{h: [2]float64{c.Float("h0"), c.Float("h1")}, theta: [2]float64{0.9, 0.9}}, nil
	}
	for seed := uint64(1); seed <= 10; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			s := mustNew(t, pbt.Config{Space: space, PopulationSize: 2, Interval: 4, MaxBudget: 200, Seed: seed,
				Initial: []hpo.Config{{"h0": 1.0, "h1": 0.0}, {"h0": 0.0, "h1": 1.0}}})
			rep, err := hpo.Run(context.Background(), hpo.Experiment{Space: space, Metric: hpo.Metric{Name: "Q"},
				Factory: factory, Scheduler: s, Slots: 1, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			best, _ := rep.Best()
			if best.Metrics["Q"] < 1.19 {
				t.Fatalf("best Q %.4f < 1.19", best.Metrics["Q"])
			}
			// Without PBT each member is stuck at Q = 1.2 − 0.81·(…) ≤ 0.39+.
			grid := toy{h: [2]float64{1, 0}, theta: [2]float64{0.9, 0.9}}
			r, _ := grid.Train(context.Background(), 200)
			if r.Metrics["Q"] > 0.4 {
				t.Fatalf("the surrogate alone reaches %.3f", r.Metrics["Q"])
			}
			t.Logf("best Q %.5f at step %d (a single member alone: %.3f)", best.Metrics["Q"], best.Budget, r.Metrics["Q"])
		})
	}
}

func spaceOf() hpo.Space { return synthetic.Space() }

// Replacements that keep failing before their first result do not loop:
// after a population's worth of them in a row, no more are started (the
// other members go on until they fail too), and the run's reason says
// that the population could not recover.
func TestReplacementsThatKeepFailing(t *testing.T) {
	s := mustNew(t, pbt.Config{Space: synthetic.Space(), PopulationSize: 4, Interval: 3, MaxBudget: 1000, Seed: 9})
	e, p := hpotest.Synth(s, 2, 3, 0.01, t.TempDir())
	e.Cost = p.Cost
	e.Factory = func(_ context.Context, id hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
		st, err := p.New(cfg)
		if err != nil {
			return nil, err
		}
		switch {
		case id == 0:
			return hpotest.FailingAt{Trainable: st, At: 3}, nil // fails in its second interval
		case id >= 4:
			return hpotest.FailingAt{Trainable: st, At: 0}, nil // every replacement fails at once
		}
		return hpotest.FailingAt{Trainable: st, At: 9}, nil // the others fail past budget 9
	}
	rep, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	// At most the population, a population's worth of replacements, and
	// those already started when the last of them failed (2 slots).
	if n := len(rep.Trials); n > 4+4+1 {
		t.Errorf("%d trials: replacements went on after a population's worth failed in a row", n)
	}
	if !strings.Contains(rep.Reason, "cannot recover") {
		t.Errorf("reason %q, want it to say the population cannot recover", rep.Reason)
	}
}
