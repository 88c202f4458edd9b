package pb2_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/internal/killtest"
	"github.com/hgdtune/hgdtune/hpo/internal/stattest"
	"github.com/hgdtune/hgdtune/hpo/pb2"
	"github.com/hgdtune/hgdtune/hpo/pbt"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

func pop(seed uint64) pbt.Config {
	return pbt.Config{Space: synthetic.Space(), PopulationSize: 8, Interval: 5, MaxBudget: 60, Seed: seed}
}

// fast is PB2 with a smaller data window and acquisition search, to keep
// the tests quick.
func fast(c pbt.Config) pb2.Config {
	return pb2.Config{PBT: c, MaxData: 40, Candidates: 64, Restarts: 2}
}

func mustNew(t testing.TB, c pb2.Config) *pbt.Scheduler {
	t.Helper()
	return hpotest.MustNew(t, pb2.New, c)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*pb2.Config)
		ok   bool
	}{
		{"defaults", func(*pb2.Config) {}, true},
		{"explorer set", func(c *pb2.Config) { c.PBT.Explorer = pbt.Perturber{} }, false},
		{"negative beta", func(c *pb2.Config) { c.Beta = -1 }, false},
		{"max data 1", func(c *pb2.Config) { c.MaxData = 1 }, false},
		{"negative restarts", func(c *pb2.Config) { c.Restarts = -1 }, false},
		{"bad population", func(c *pb2.Config) { c.PBT.PopulationSize = 1 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := pb2.Config{PBT: pop(1)}
			tt.edit(&c)
			_, err := pb2.New(c)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, hpo.ErrInvalid)) {
				t.Fatalf("New = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// Two members choosing in the same round with no new data get different
// configurations: the first choice is pending and lowers the variance
// around it (the GP-BUCB rule).
func TestPendingChoicesDiffer(t *testing.T) {
	space := hpo.Space{{Name: "x", Domain: hpo.Float{Low: 0, High: 1}}}
	e := pb2.NewExplorer(pb2.Config{PBT: pbt.Config{Space: space, Interval: 1, ResampleProb: -1}, Beta: 4})
	for i := range 6 { // flat data: the UCB is driven by the variance
		e.ObserveSegment(nil, pbt.Segment{Trial: hpo.TrialID(i), Budget0: 1, Budget1: 2, Before: 0.5, After: 0.5,
			HasBefore: true, Config: hpo.Config{"x": 0.05 + 0.02*float64(i)}})
	}
	step := func(target hpo.TrialID) float64 {
		c, err := e.Explore(nil, pbt.Step{Target: target, Donor: 0, Budget: 2, Score: 0.5,
			Config: hpo.Config{"x": 0.1}, Rand: hpo.TrialRand(1, target)})
		if err != nil {
			t.Fatal(err)
		}
		return c.Float("x")
	}
	a, b := step(10), step(11)
	if math.Abs(a-b) < 0.1 {
		t.Fatalf("pending choice ignored: %v then %v", a, b)
	}
	t.Logf("first %.3f, second %.3f", a, b)
}

func TestRuns(t *testing.T) {
	for _, slots := range []int{1, 4} {
		t.Run(fmt.Sprint("slots=", slots), func(t *testing.T) {
			s := mustNew(t, fast(pop(2)))
			e, _ := hpotest.Synth(s, slots, 3, 0.005, t.TempDir())
			hpotest.RunPopulation(t, e)
		})
	}
}

// TestBeatsRandom compares PB2 with random search at equal simulated
// training time on the noise-free synthetic problem over 12 seeds (as in
// package pbt): one-sided paired sign test, p < 0.01 required.
func TestBeatsRandom(t *testing.T) {
	stattest.BeatsRandom(t, "PB2", 12, func(seed uint64) (float64, float64) {
		e, _ := hpotest.Synth(mustNew(t, fast(pop(seed))), 1, seed, 0, "")
		rep, err := hpo.Run(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		e, _ = hpotest.Synth(&hpo.FIFO{MaxBudget: 60}, 1, seed, 0, "")
		e.TimeBudget = rep.Elapsed
		rnd, err := hpo.Run(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := rep.Best()
		r, _ := rnd.Best()
		return p.Metrics["acc"], r.Metrics["acc"]
	})
}

var killExperiment = hpotest.PopulationKillExperiment(func(c pbt.Config) (*pbt.Scheduler, error) { return pb2.New(fast(c)) })

func TestKillChild(t *testing.T) { killtest.Child(t, killExperiment) }

// TestKillAndResume: kill -9 at arbitrary moments and resume by replay; the
// GP fits replay identically, so with one slot the results equal an
// uninterrupted run's.
func TestKillAndResume(t *testing.T) {
	killtest.KillAndResumeSlots(t, killExperiment, killtest.Options{})
}

// In the HGD arm the only parameter is the batch size, an ordered Choice:
// the GP models it through its unit coordinate and PB2 picks it by its
// acquisition. Data where the largest batch gains most (or least) make PB2
// choose it (or the smallest) from a donor in the middle, for every random
// stream; PBT's perturbation would move to a neighbour or resample.
func TestOrderedChoiceByAcquisition(t *testing.T) {
	batches := []any{32, 64, 128, 256}
	space := hpo.Space{{Name: "batch", Domain: hpo.Choice{Values: batches, Ordered: true}}}
	for _, c := range []struct {
		name string
		gain func(i int) float64 // reward change of an interval with batches[i]
		want int
	}{
		{"largest gains", func(i int) float64 { return 0.1 * float64(i) }, 256},
		{"smallest gains", func(i int) float64 { return -0.1 * float64(i) }, 32},
	} {
		t.Run(c.name, func(t *testing.T) {
			for stream := uint64(1); stream <= 5; stream++ {
				e := pb2.NewExplorer(pb2.Config{PBT: pbt.Config{Space: space, Interval: 1}, Beta: 0.1})
				id := 0
				for rep := range 3 {
					for i, b := range batches {
						e.ObserveSegment(nil, pbt.Segment{Trial: hpo.TrialID(id), Budget0: 1 + rep, Budget1: 2 + rep,
							Before: 0.5, After: 0.5 + c.gain(i), HasBefore: true, Config: hpo.Config{"batch": b}})
						id++
					}
				}
				cfg, err := e.Explore(nil, pbt.Step{Target: 100, Donor: 1, Budget: 4, Score: 0.5,
					Config: hpo.Config{"batch": 64}, Rand: hpo.TrialRand(stream, 100)})
				if err != nil {
					t.Fatal(err)
				}
				if got := cfg["batch"]; got != c.want {
					t.Fatalf("stream %d: batch %v, want %d", stream, got, c.want)
				}
			}
		})
	}
}

// An Int parameter is modelled too: data favouring its high end move it
// there, not to a ±20% neighbour of the donor's value.
func TestIntByAcquisition(t *testing.T) {
	space := hpo.Space{{Name: "k", Domain: hpo.Int{Low: 1, High: 100}}}
	e := pb2.NewExplorer(pb2.Config{PBT: pbt.Config{Space: space, Interval: 1}, Beta: 0.1})
	for i := range 12 {
		k := 1 + 9*i
		e.ObserveSegment(nil, pbt.Segment{Trial: hpo.TrialID(i), Budget0: 1, Budget1: 2, Before: 0.5,
			After: 0.5 + float64(k)/100, HasBefore: true, Config: hpo.Config{"k": k}})
	}
	cfg, err := e.Explore(nil, pbt.Step{Target: 50, Donor: 0, Budget: 2, Score: 0.5,
		Config: hpo.Config{"k": 40}, Rand: hpo.TrialRand(3, 50)})
	if err != nil {
		t.Fatal(err)
	}
	if k := cfg["k"].(int); k < 90 {
		t.Fatalf("k = %d, want ≥ 90 (the data favour the high end)", k)
	}
}
