package pbt_test

import (
	"context"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/internal/stattest"
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
	stattest.BeatsRandom(t, "PBT", 12, func(seed uint64) (float64, float64) {
		s := mustNew(t, pbt.Config{Space: spaceOf(), PopulationSize: 8, Interval: 5, MaxBudget: 60, Seed: seed})
		e, _ := hpotest.Synth(s, 1, seed, 0, "")
		p, rep := bestOf(t, e)
		e, _ = hpotest.Synth(&hpo.FIFO{MaxBudget: 60}, 1, seed, 0, "")
		e.TimeBudget = rep.Elapsed
		r, _ := bestOf(t, e)
		t.Logf("seed %2d: simulated time %v", seed, rep.Elapsed)
		return p, r
	})
}
