package reproduce

import (
	"fmt"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/genetic"
	"github.com/hgdtune/hgdtune/hpo/pb2"
	"github.com/hgdtune/hgdtune/hpo/pbt"
)

// populationIntervals is how many perturbation intervals a PBT/PB2 member
// may train: far more than any time budget allows, so that the wall-clock
// budget T, not a trial budget, ends population-based runs (as in the
// paper's time-budgeted comparison).
const populationIntervals = 1000

// mutable lists the hyperparameters that population-based training may
// change while a member trains: the non-structural ones of the paper's
// classification. The widths are structural (a copied checkpoint would not
// fit another network), so they are sampled for the initial population and
// inherited by exploits, never perturbed. The batch size is
// non-structural; the learning rate and momentum are too, but the HGD arm
// has removed them from the space.
func mutable(space hpo.Space) []string {
	var out []string
	for _, name := range []string{cnn.ParamLearningRate, cnn.ParamMomentum, cnn.ParamBatchSize} {
		for _, p := range space {
			if p.Name == name {
				out = append(out, name)
			}
		}
	}
	return out
}

// populationScheduler builds PBT, PB2 and the genetic algorithm: the
// population is Preset.Population, PBT and PB2 perturb every
// Preset.PerturbEvery epochs, and the genetic algorithm trains every
// individual for Preset.PerturbEvery epochs (its fixed generation budget)
// and mutates each gene with probability 1/len(SGD arm's space) in both
// arms.
// The initial populations are paired draws (pairedSearcher), the same
// architectures in both arms.
func populationScheduler(p Preset, alg string, space hpo.Space, seed uint64) (hpo.Scheduler, hpo.Searcher, error) {
	random := pairedSearcher(space, seed)
	pc := pbt.Config{
		Space: space, PopulationSize: p.Population, Interval: p.PerturbEvery,
		MaxBudget: populationIntervals * p.PerturbEvery, Mutable: mutable(space),
		Seed: seed,
	}
	switch alg {
	case PBT:
		s, err := pbt.New(pc)
		return s, random, err
	case PB2:
		s, err := pb2.New(pb2.Config{PBT: pc})
		return s, random, err
	case Genetic:
		// Both arms mutate each gene with the probability of the SGD
		// arm's space (one gene per child on average), so that the genes
		// they share mutate alike although the HGD arm's space is smaller.
		// (Preset.GeneticMutation "per-arm": each arm's own 1/len(space).)
		rate := 0.0
		if p.sharedMutation() {
			full, err := p.Space(cnn.ArmSGD)
			if err != nil {
				return nil, nil, err
			}
			rate = 1 / float64(len(full))
		}
		g, err := genetic.New(genetic.Config{Space: space, PopulationSize: p.Population,
			Mutation: rate, SteadyState: true, Seed: seed})
		if err != nil {
			return nil, nil, err
		}
		// The initial population is paired across arms (pairing.go); the
		// children are bred by the genetic algorithm.
		return &hpo.FIFO{MaxBudget: p.PerturbEvery}, &pairedInitial{Searcher: g, Space: space, Seed: seed, N: p.Population}, nil
	}
	return nil, nil, fmt.Errorf("%w: unknown algorithm %q", ErrConfig, alg)
}
