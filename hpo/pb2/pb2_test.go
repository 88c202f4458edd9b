package pb2_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo/internal/stattest"

	"github.com/hgdtune/hgdtune/hpo/internal/killtest"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/pb2"
	"github.com/hgdtune/hgdtune/hpo/pbt"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

var acc = hpo.Metric{Name: "acc", Goal: hpo.Maximize}

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
	s, err := pb2.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func synth(s hpo.Scheduler, slots int, seed uint64, noise float64, dir string) hpo.Experiment {
	clock := hpo.NewManualClock(time.Unix(0, 0))
	p := &synthetic.Problem{Seed: seed, Noise: noise, StepCost: time.Second, Clock: clock}
	return hpo.Experiment{Space: synthetic.Space(), Metric: acc, Factory: p.Factory(), Scheduler: s,
		Slots: slots, Seed: seed, Clock: clock, Dir: dir}
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
			e := synth(s, slots, 3, 0.005, t.TempDir())
			rep, err := hpo.Run(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Reason != "population done" {
				t.Fatalf("reason %q", rep.Reason)
			}
			for _, tr := range rep.Trials {
				if tr.Status != hpo.Completed {
					t.Fatalf("trial %d %v %s", tr.ID, tr.Status, tr.Err)
				}
			}
		})
	}
}

// TestBeatsRandom compares PB2 with random search at equal simulated
// training time on the noise-free synthetic problem over 12 seeds (as in
// package pbt): one-sided paired sign test, p < 0.01 required.
func TestBeatsRandom(t *testing.T) {
	const seeds = 12
	wins, n := 0, 0
	var sum float64
	for seed := uint64(1); seed <= seeds; seed++ {
		rep, err := hpo.Run(context.Background(), synth(mustNew(t, fast(pop(seed))), 1, seed, 0, ""))
		if err != nil {
			t.Fatal(err)
		}
		e := synth(&hpo.FIFO{MaxBudget: 60}, 1, seed, 0, "")
		e.TimeBudget = rep.Elapsed
		rnd, err := hpo.Run(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := rep.Best()
		r, _ := rnd.Best()
		pa, ra := p.Metrics["acc"], r.Metrics["acc"]
		t.Logf("seed %2d: pb2 %.4f random %.4f", seed, pa, ra)
		sum += pa - ra
		if pa != ra {
			n++
			if pa > ra {
				wins++
			}
		}
	}
	pv := stattest.SignTestP(wins, n)
	t.Logf("PB2 wins %d of %d non-tied seeds, mean gain %.4f, sign test p = %.5f", wins, n, sum/seeds, pv)
	if pv >= 0.01 {
		t.Fatalf("PB2 does not beat random search: p = %.4f", pv)
	}
}

func killExperiment(dir string, slots int) hpo.Experiment {
	s, err := pb2.New(fast(pbt.Config{Space: synthetic.Space(), PopulationSize: 6, Interval: 3, MaxBudget: 30, Seed: 7}))
	if err != nil {
		panic(err)
	}
	p := &synthetic.Problem{Seed: 5, Noise: 0.01, Sleep: 2 * time.Millisecond}
	return hpo.Experiment{Space: synthetic.Space(), Metric: acc, Factory: p.Factory(), Scheduler: s,
		Slots: slots, Seed: 2, Dir: dir}
}

func TestKillChild(t *testing.T) { killtest.Child(t, killExperiment) }

// TestKillAndResume: kill -9 at arbitrary moments and resume by replay; the
// GP fits replay identically, so with one slot the results equal an
// uninterrupted run's.
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	for _, slots := range []int{1, 3} {
		t.Run(fmt.Sprint("slots=", slots), func(t *testing.T) {
			killtest.KillAndResume(t, slots, killExperiment, killtest.Options{})
		})
	}
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
