package pbt_test

import (
	"context"
	"testing"

	"github.com/hgdtune/hgdtune/hpo/internal/stattest"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/pbt"
)

// bestOf runs e and returns the best (noise-free) accuracy and the
// simulated time it used.
func bestOf(t *testing.T, e hpo.Experiment) (float64, *hpo.Report) {
	t.Helper()
	rep, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := rep.Best()
	if !ok {
		t.Fatal("no result")
	}
	return b.Metrics["acc"], rep
}

// TestBeatsRandom compares PBT with random search at equal simulated
// training time on the synthetic problem (no evaluation noise, so the best
// reported accuracy is the true one) over 12 seeds. PBT runs a population
// of 8 to 60 iterations; random search (FIFO, every trial to 60) gets the
// same simulated time. H0: each method is equally likely to win a seed;
// the one-sided sign test must reject it at p < 0.01 (≥ 11 wins of 12).
func TestBeatsRandom(t *testing.T) {
	const seeds = 12
	wins, n := 0, 0
	var sumDiff float64
	for seed := uint64(1); seed <= seeds; seed++ {
		s := mustNew(t, pbt.Config{Space: spaceOf(), PopulationSize: 8, Interval: 5, MaxBudget: 60, Seed: seed})
		e, _ := synth(s, 1, seed, 0, "")
		p, rep := bestOf(t, e)
		e, _ = synth(&hpo.FIFO{MaxBudget: 60}, 1, seed, 0, "")
		e.TimeBudget = rep.Elapsed
		r, _ := bestOf(t, e)
		t.Logf("seed %2d: pbt %.4f random %.4f (time %v)", seed, p, r, rep.Elapsed)
		sumDiff += p - r
		if p != r {
			n++
			if p > r {
				wins++
			}
		}
	}
	pv := stattest.SignTestP(wins, n)
	t.Logf("PBT wins %d of %d non-tied seeds, mean gain %.4f, sign test p = %.5f", wins, n, sumDiff/seeds, pv)
	if pv >= 0.01 {
		t.Fatalf("PBT does not beat random search: %d wins of %d, p = %.4f", wins, n, pv)
	}
}
