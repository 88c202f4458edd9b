package reproduce

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
)

// syntheticPool is a pool of cpu-study's spaces with made-up curves: member
// i's accuracy after epoch e is q_i·(1 − exp(−e/τ)), q_i in [0.3, 0.6]
// from a hash of i, τ = tauSGD or tauHGD.
func syntheticPool(t *testing.T, n int, tauSGD, tauHGD float64) *Curves {
	t.Helper()
	p := Presets()["cpu-study"]
	p.Algorithms, p.Seeds, p.Budget, p.PoolSGD, p.PoolHGD = []string{Recording}, 1, Duration(BudgetLimit), n, n
	c := &Curves{Format: CurvesFormat, Preset: p, TrainImages: 3500, EvalImages: 500, Arms: map[string][]Member{}}
	for arm, tau := range map[string]float64{"sgd": tauSGD, "hgd": tauHGD} {
		space, err := p.Space(mustArm(t, arm))
		if err != nil {
			t.Fatal(err)
		}
		d, err := newPoolDraws(space, mustArm(t, arm), 7, n)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			q := 0.3 + 0.3*hpo.Unit(11, uint64(i))
			m := Member{Config: d.member(i), Seed: uint64(i)}
			for e := 1; e <= p.MaxEpochs; e++ {
				m.Epochs = append(m.Epochs, Epoch{Metrics: map[string]float64{
					"accuracy": q * (1 - math.Exp(-float64(e)/tau)), "steps": float64(100 * e), "train_loss": 2 / float64(e)}})
			}
			c.Arms[arm] = append(c.Arms[arm], m)
		}
	}
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	return c
}

func replayPreset(c *Curves, algorithms ...string) Preset {
	p := Presets()["cpu-study"]
	p.Algorithms, p.Seeds, p.Budget, p.Replay = algorithms, 20, Duration(120*time.Second), c.ID()
	return p
}

// Where the HGD arm's curves rise three times as fast, Targets finds HGD
// reaching every target sooner, significantly after Holm's correction, with
// intervals above 1; where the arms' curves are alike, the speed-up's
// interval holds 1 and nothing is significant.
func TestTargetsSeparatesArms(t *testing.T) {
	for _, c := range []struct {
		name          string
		tauSGD, tauHG float64
		faster        bool
	}{{"HGD faster", 4.5, 1.5, true}, {"alike", 2, 2, false}} {
		t.Run(c.name, func(t *testing.T) {
			pool := syntheticPool(t, 60, c.tauSGD, c.tauHG)
			r, err := Targets(context.Background(), TargetOptions{Preset: replayPreset(pool, ASHA, HyperBand), Curves: pool, Targets: []float64{0.2, 0.3}, Boot: 10, BootSeeds: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Options.Targets) == 0 || len(r.Cells) != 2*len(r.Options.Targets) {
				t.Fatalf("%d targets, %d cells", len(r.Options.Targets), len(r.Cells))
			}
			for i, cell := range r.Cells {
				test := r.Tests[i]
				switch {
				case c.faster && !(cell.SpeedUp > 1.3 && cell.SpeedUpLo > 1 && test.PHolm < 0.05):
					t.Errorf("%s at %.3f: speed-up %.2f [%.2f, %.2f], p Holm %.3g; want HGD clearly faster",
						cell.Algorithm, cell.Target, cell.SpeedUp, cell.SpeedUpLo, cell.SpeedUpHi, test.PHolm)
				case !c.faster && !(cell.SpeedUpLo <= 1 && cell.SpeedUpHi >= 1 && !(test.PHolm < 0.05)):
					t.Errorf("%s at %.3f: speed-up %.2f [%.2f, %.2f], p Holm %.3g; want no difference",
						cell.Algorithm, cell.Target, cell.SpeedUp, cell.SpeedUpLo, cell.SpeedUpHi, test.PHolm)
				}
				for a := range r.Arms {
					share := cell.Reached[a].Value
					for j := 1; j < len(share); j++ {
						if share[j] < share[j-1] {
							t.Fatalf("share reached falls at grid point %d: %v", j, share)
						}
					}
				}
			}
			if md := r.Markdown(); !strings.Contains(md, "- SGD pool: 60 configurations, effective sample size") {
				t.Errorf("the report does not give the pool's effective sample size:\n%s", md)
			}
			if r.ESS["hgd"] != 60 || !(r.ESS["sgd"] > 30 && r.ESS["sgd"] < 60) {
				t.Errorf("ESS %v, want 60 for HGD and between 30 and 60 for SGD", r.ESS)
			}
			if _, err := r.Figures(t.TempDir(), "x-"); err != nil {
				t.Error(err)
			}
		})
	}
}

// Hitting times, medians and speed-ups at their edges.
func TestTargetHelpers(t *testing.T) {
	curve := []hpo.Point{{Elapsed: time.Second, Best: 0.2}, {Elapsed: 3 * time.Second, Best: 0.4}}
	if h := hitTime(curve, 0.3); h != 3 {
		t.Errorf("hit 0.3 at %v, want 3", h)
	}
	if h := hitTime(curve, 0.5); !math.IsInf(h, 1) {
		t.Errorf("hit 0.5 at %v, want +Inf", h)
	}
	if v := bestAt(curve, 0.5); !math.IsNaN(v) {
		t.Errorf("best before the first result %v, want NaN", v)
	}
	if v := bestAt(curve, 3); v != 0.4 {
		t.Errorf("best at 3 s %v, want 0.4", v)
	}
	inf := math.Inf(1)
	if m := medianHit([]float64{1, 2, inf, inf}); !math.IsInf(m, 1) {
		t.Errorf("median with half reached %v, want +Inf", m)
	}
	if m := medianHit([]float64{1, 2, 3, inf, inf}); m != 3 {
		t.Errorf("median %v, want 3", m)
	}
	arms := []string{"sgd", "hgd"}
	for _, c := range []struct{ sgd, hgd, want float64 }{{4, 2, 2}, {inf, 2, inf}, {2, inf, 0}} {
		if got := speedUp(arms, []float64{c.sgd, c.hgd}); got != c.want {
			t.Errorf("speed-up of %v over %v = %v, want %v", c.sgd, c.hgd, got, c.want)
		}
	}
	if got := speedUp(arms, []float64{inf, inf}); !math.IsNaN(got) {
		t.Errorf("speed-up when neither reached = %v, want NaN", got)
	}
	var runs []replayed
	for i := range 100 {
		runs = append(runs, replayed{curve: []hpo.Point{{Best: float64(i) / 100}}})
	}
	if got := defaultTargets(runs); len(got) != 3 || got[0] != 0.095 || got[1] != 0.245 || got[2] != 0.495 {
		t.Errorf("default targets %v, want [0.095 0.245 0.495]", got)
	}
}

// The speed-up test's spread is robust to a few infinite replicates.
func TestRobustSD(t *testing.T) {
	inf := math.Inf(1)
	if got := robustSD([]float64{-2, -1, 0, 1, 2}); math.Abs(got-2/1.349) > 1e-12 {
		t.Errorf("robustSD = %v, want IQR 2 over 1.349", got)
	}
	if got := robustSD([]float64{-2, -1, 0, 1, 2, inf}); math.IsNaN(got) || math.IsInf(got, 0) {
		t.Errorf("one infinite replicate of six: %v, want a finite spread", got)
	}
	if got := robustSD([]float64{0, inf, inf, inf}); !math.IsNaN(got) {
		t.Errorf("an infinite quartile: %v, want NaN", got)
	}
	// A replicate whose speed-up is 0 has a log of −Inf: a quartile
	// between it and a finite value is −Inf, not NaN by accident.
	if got := quantile([]float64{-inf, 1}, 0.5); !math.IsInf(got, -1) {
		t.Errorf("quantile between −Inf and 1: %v, want −Inf", got)
	}
	if got := quantile([]float64{-inf, inf}, 0.5); !math.IsNaN(got) {
		t.Errorf("quantile between −Inf and +Inf: %v, want NaN", got)
	}
	if got := robustSD([]float64{-inf, -inf, 1, 2, 3, 4, 5, 6}); !math.IsNaN(got) {
		t.Errorf("a quartile of −Inf: %v, want NaN", got)
	}
}
