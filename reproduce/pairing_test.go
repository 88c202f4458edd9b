package reproduce

import (
	"math"
	"testing"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hpo"
)

var architecture = []string{cnn.ParamConv1, cnn.ParamConv2, cnn.ParamConv3, cnn.ParamFC1, cnn.ParamFC2, cnn.ParamBatchSize}

// Seed k of both arms shares its architecture draws: the first 20 trials of
// the random searcher (random search, ASHA, Async Hyperband, Hyperband)
// and the initial populations of PBT, PB2 and the genetic algorithm have
// the same widths and batch size in the SGD and HGD arms.
func TestPairedArchitectureDraws(t *testing.T) {
	for _, name := range []string{"cpu-quick", "paper"} {
		p := Presets()[name]
		sgd, err := p.Space(cnn.ArmSGD)
		if err != nil {
			t.Fatal(err)
		}
		hgd, err := p.Space(cnn.ArmHGD)
		if err != nil {
			t.Fatal(err)
		}
		same := func(what string, seed uint64, id hpo.TrialID, a, b hpo.Config) {
			t.Helper()
			for _, prm := range architecture {
				if a[prm] != b[prm] {
					t.Errorf("%s %s seed %d trial %d: %s is %v in SGD, %v in HGD", name, what, seed, id, prm, a[prm], b[prm])
				}
			}
			if _, err := cnn.FromConfig(p.Case(), cnn.ArmSGD, a); err != nil {
				t.Errorf("%s %s: SGD config: %v", name, what, err)
			}
			if _, err := cnn.FromConfig(p.Case(), cnn.ArmHGD, b); err != nil {
				t.Errorf("%s %s: HGD config: %v", name, what, err)
			}
		}
		for seed := range uint64(3) {
			rs, rh := pairedSearcher(sgd, seed), pairedSearcher(hgd, seed)
			differ := 0
			for id := range hpo.TrialID(20) {
				a, _ := rs.Suggest(nil, id)
				b, _ := rh.Suggest(nil, id)
				same("random", seed, id, a, b)
				if c, _ := rs.Suggest(nil, id+1); c[cnn.ParamConv1] != a[cnn.ParamConv1] || c[cnn.ParamFC1] != a[cnn.ParamFC1] {
					differ++
				}
			}
			if differ < 10 {
				t.Errorf("%s seed %d: consecutive trials look alike (%d of 20 differ)", name, seed, differ)
			}
			for _, alg := range []string{PBT, PB2, Genetic} {
				_, ss, err := populationScheduler(p, alg, sgd, seed)
				if err != nil {
					t.Fatal(err)
				}
				_, sh, err := populationScheduler(p, alg, hgd, seed)
				if err != nil {
					t.Fatal(err)
				}
				if v, ok := ss.(hpo.Validator); !ok || v.Validate() != nil {
					t.Errorf("%s searcher does not validate", alg)
				}
				for id := range hpo.TrialID(p.Population) {
					a, err1 := ss.Suggest(nil, id)
					b, err2 := sh.Suggest(nil, id)
					if err1 != nil || err2 != nil {
						t.Fatal(err1, err2)
					}
					same(alg, seed, id, a, b)
				}
			}
		}
		// Another seed draws other architectures.
		a, _ := pairedSearcher(sgd, 0).Suggest(nil, 0)
		b, _ := pairedSearcher(sgd, 1).Suggest(nil, 0)
		c, _ := pairedSearcher(sgd, 2).Suggest(nil, 0)
		if a[cnn.ParamConv1] == b[cnn.ParamConv1] && b[cnn.ParamConv1] == c[cnn.ParamConv1] &&
			a[cnn.ParamFC1] == b[cnn.ParamFC1] && b[cnn.ParamFC1] == c[cnn.ParamFC1] {
			t.Errorf("%s: seeds 0, 1, 2 draw the same first trial %v", name, a)
		}
	}
}

// The paired draws follow the space's prior: the learning rate is
// log-uniform (46.5% below 1e-3) and each conv1 width equally likely.
func TestPairedDrawsFollowThePrior(t *testing.T) {
	p := Presets()["paper"]
	space, err := p.Space(cnn.ArmSGD)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	below := 0
	counts := map[any]int{}
	s := pairedSearcher(space, 7)
	for id := range hpo.TrialID(n) {
		c, _ := s.Suggest(nil, id)
		if c[cnn.ParamLearningRate].(float64) < 1e-3 {
			below++
		}
		counts[c[cnn.ParamConv1]]++
	}
	if got := float64(below) / n; math.Abs(got-0.465) > 0.015 {
		t.Errorf("%.4f of the learning rates below 1e-3, want ≈ 0.465", got)
	}
	k := len(counts)
	for v, c := range counts {
		if math.Abs(float64(c)/n-1/float64(k)) > 0.02 {
			t.Errorf("conv1 = %v drawn %d times of %d (%d values)", v, c, n, k)
		}
	}
}

// Every algorithm's searcher in a run is paired: scheduler() hands random
// search, ASHA, Async Hyperband and Hyperband the paired searcher, so their
// first trials have the same architecture in both arms.
func TestSchedulerSearchersPaired(t *testing.T) {
	p := Presets()["cpu-quick"]
	sgd, _ := p.Space(cnn.ArmSGD)
	hgd, _ := p.Space(cnn.ArmHGD)
	for _, alg := range []string{Random, ASHA, AHB, HyperBand} {
		_, ss, err := scheduler(p, alg, sgd, 4)
		if err != nil {
			t.Fatal(err)
		}
		_, sh, err := scheduler(p, alg, hgd, 4)
		if err != nil {
			t.Fatal(err)
		}
		for id := range hpo.TrialID(10) {
			a, _ := ss.Suggest(nil, id)
			b, _ := sh.Suggest(nil, id)
			for _, prm := range architecture {
				if a[prm] != b[prm] {
					t.Fatalf("%s trial %d: %s is %v in SGD, %v in HGD", alg, id, prm, a[prm], b[prm])
				}
			}
		}
	}
}
