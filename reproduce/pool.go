package reproduce

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hpo"
)

// Curve pools. A pool is a set of configurations per arm, each trained once
// to MaxEpochs and evaluated after every epoch (Record); replaying an
// algorithm on it (Options.Curves) serves every trial from the recorded
// curves instead of training.
//
// The SGD arm's pool serves both learning-rate priors from one recording:
// member i's learning rate is drawn from the mixture ½ log-uniform + ½
// uniform on [1e-5, 0.2] (which of the two from its own stream), its other
// parameters from the space's prior, each from the stream of (pool seed,
// i, parameter name) as pairedDraw does. A replay under prior P weights
// member i by w_P(lr) = p_P(lr) / q(lr), the density ratio of P to the
// mixture; the effective sample size (Σw)²/Σw² of each prior is at least
// half the pool, since w_P ≤ 2.
//
// A space of choices only (the HGD arm's: widths and batch size) is
// recorded without repetition: its configurations, enumerated in the
// space's order, are shuffled by the pool seed and member i is the i-th;
// a pool as large as the space records all of it.

// poolStreamComponent is the stream of the SGD pool's choice of prior.
var poolStreamComponent = paramStream("lr-prior-component")

// lrDensity is the density of the learning rate under prior (on
// cnn.LearningRateDomain's interval).
func lrDensity(prior string, lr float64) float64 {
	d := cnn.LearningRateDomain
	if lr < d.Low || lr > d.High {
		return 0
	}
	if prior == LRPriorUniform {
		return 1 / (d.High - d.Low)
	}
	return 1 / (lr * math.Log(d.High/d.Low))
}

// poolWeight is the replay weight of a member with learning rate lr under
// prior (the density ratio of prior to the recording's mixture).
func poolWeight(prior string, lr float64) float64 {
	q := 0.5*lrDensity(LRPriorLog, lr) + 0.5*lrDensity(LRPriorUniform, lr)
	if q == 0 {
		return 0
	}
	return lrDensity(prior, lr) / q
}

// ESS is the effective sample size (Σw)²/Σw² of weights w.
func ESS(w []float64) float64 {
	var s, s2 float64
	for _, x := range w {
		s += x
		s2 += x * x
	}
	if s2 == 0 {
		return 0
	}
	return s * s / s2
}

// choicesOnly reports whether every parameter of space is a Choice, and the
// number of configurations it holds.
func choicesOnly(space hpo.Space) (bool, int) {
	n := 1
	for _, p := range space {
		ch, ok := p.Domain.(hpo.Choice)
		if !ok {
			return false, 0
		}
		n *= len(ch.Values)
	}
	return true, n
}

// poolDraws are the configurations a pool records for one arm: the
// searcher of a recording run.
type poolDraws struct {
	space hpo.Space
	seed  uint64
	n     int
	// order is the shuffled enumeration of a space of choices (nil: drawn).
	order []int
	sgd   bool
}

// newPoolDraws returns the first n configurations of arm's pool under seed.
func newPoolDraws(space hpo.Space, arm cnn.Arm, seed uint64, n int) (*poolDraws, error) {
	d := &poolDraws{space: space, seed: seed, n: n, sgd: arm == cnn.ArmSGD}
	if n < 1 {
		return nil, fmt.Errorf("%w: a pool of %d configurations for the %s arm", ErrConfig, n, arm)
	}
	if ok, size := choicesOnly(space); ok && !d.sgd {
		if n > size {
			return nil, fmt.Errorf("%w: a pool of %d configurations for the %s arm, whose space holds %d", ErrConfig, n, arm, size)
		}
		d.order = hpo.TrialRand(seed, 0).Perm(size)
	}
	return d, nil
}

// Validate implements hpo.Validator.
func (d *poolDraws) Validate() error { return d.space.Validate() }

// Suggest implements hpo.Searcher: member id of the pool.
func (d *poolDraws) Suggest(_ hpo.View, id hpo.TrialID) (hpo.Config, error) {
	if int(id) >= d.n {
		return nil, hpo.ErrExhausted
	}
	return d.member(int(id)), nil
}

// Observe implements hpo.Searcher; the draws ignore results.
func (d *poolDraws) Observe(hpo.View, hpo.Result, hpo.Status) {}

// member returns member i's configuration.
func (d *poolDraws) member(i int) hpo.Config {
	cfg := make(hpo.Config, len(d.space))
	if d.order != nil {
		k := d.order[i]
		for j := len(d.space) - 1; j >= 0; j-- { // the last parameter varies fastest
			ch := d.space[j].Domain.(hpo.Choice)
			cfg[d.space[j].Name] = ch.Values[k%len(ch.Values)]
			k /= len(ch.Values)
		}
		return cfg
	}
	for _, p := range d.space {
		u := hpo.Unit(d.seed, uint64(i), paramStream(p.Name))
		dom := p.Domain
		if d.sgd && p.Name == cnn.ParamLearningRate {
			f := cnn.LearningRateDomain
			f.Log = hpo.Unit(d.seed, uint64(i), poolStreamComponent) < 0.5
			dom = f
		}
		cfg[p.Name] = dom.FromUnit(u)
	}
	return cfg
}

// recording reports whether the preset records a curve pool.
func (p Preset) recording() bool { return slices.Contains(p.Algorithms, Recording) }

// poolSize is the number of configurations the pool records in arm.
func (p Preset) poolSize(arm cnn.Arm) int {
	if arm == cnn.ArmHGD {
		return p.PoolHGD
	}
	return p.PoolSGD
}

// replayable lists the algorithms that a curve pool can replay: those that
// train each trial with one configuration from start to end.
func replayable() []string { return []string{HyperBand, ASHA, AHB, Random} }

// validatePool checks the pool fields: a recording is the algorithm Recording
// alone, with a pool size for each of its arms; a replay runs replayable
// algorithms only.
func (p Preset) validatePool() error {
	if p.recording() {
		if len(p.Algorithms) != 1 {
			return fmt.Errorf("%w: the algorithm %q records a curve pool and runs alone", ErrConfig, Recording)
		}
		if p.Replay != "" {
			return fmt.Errorf("%w: a curve pool cannot be recorded from a replay", ErrConfig)
		}
		arms, err := p.parseArms()
		if err != nil {
			return err
		}
		for _, arm := range arms {
			if p.poolSize(arm) < 1 {
				return fmt.Errorf("%w: a curve pool needs at least one configuration for the %s arm", ErrConfig, arm)
			}
		}
		return nil
	}
	if p.PoolSGD != 0 || p.PoolHGD != 0 {
		return fmt.Errorf("%w: pool sizes need the algorithm %q", ErrConfig, Recording)
	}
	if p.Replay == "" {
		return nil
	}
	for _, a := range p.Algorithms {
		if slices.Contains(replayable(), a) {
			continue
		}
		why := "PBT and PB2 change a trial's hyperparameters during training, which no recorded curve answers; run them with real training"
		if a == Genetic {
			why = "its mutations make configurations that are not in the pool (the SGD arm's learning rate and momentum are continuous); run it with real training"
		}
		return fmt.Errorf("%w: %s cannot be replayed on recorded curves: %s (replayable: %s)", ErrConfig, a, why, strings.Join(replayable(), ", "))
	}
	return nil
}
