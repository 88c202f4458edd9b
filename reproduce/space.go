package reproduce

import (
	"fmt"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hpo"
)

// The data sets of a preset (Preset.Dataset), as config.json and the
// -dataset flag spell them.
const (
	DatasetCIFAR10  = "cifar10"
	DatasetCIFAR100 = "cifar100"
)

// DatasetCase returns the paper's case study of a data set spelled as
// Preset.Dataset and the -dataset flag spell it; it is the one reader of
// those spellings.
func DatasetCase(dataset string) (cnn.Case, error) {
	switch dataset {
	case DatasetCIFAR10:
		return cnn.Case1, nil
	case DatasetCIFAR100:
		return cnn.Case2, nil
	}
	return 0, fmt.Errorf("%w: dataset %q (want %s or %s)", ErrConfig, dataset, DatasetCIFAR10, DatasetCIFAR100)
}

// Case returns the paper's case study of the preset's data set: cnn.Case1
// for CIFAR-10, cnn.Case2 for CIFAR-100, and the zero Case, which no
// network accepts, for a data set that Validate refuses.
func (p Preset) Case() cnn.Case {
	c, _ := DatasetCase(p.Dataset)
	return c
}

// parseArms returns the preset's arms, parsed by cnn.ParseArm.
func (p Preset) parseArms() ([]cnn.Arm, error) {
	arms := make([]cnn.Arm, len(p.Arms))
	for i, a := range p.Arms {
		arm, err := cnn.ParseArm(a)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		arms[i] = arm
	}
	return arms, nil
}

// Space returns Table 2's search space of the preset's case for an arm,
// with the preset's caps applied to the widths and batch sizes and the
// preset's learning-rate prior (Preset.LRPrior) on the SGD arm's learning
// rate: the same interval, log-uniform or uniform.
func (p Preset) Space(arm cnn.Arm) (hpo.Space, error) {
	space := cnn.Space(p.Case(), arm)
	for i, prm := range space {
		if prm.Name == cnn.ParamLearningRate {
			d := cnn.LearningRateDomain
			d.Log = p.lrPrior() == LRPriorLog
			space[i].Domain = d
		}
	}
	caps := map[string][2]int{
		cnn.ParamConv1:     {0, p.MaxConv},
		cnn.ParamConv2:     {0, p.MaxConv},
		cnn.ParamConv3:     {0, p.MaxConv},
		cnn.ParamFC1:       {0, p.MaxFC1},
		cnn.ParamFC2:       {0, p.MaxFC2},
		cnn.ParamBatchSize: {p.MinBatch, p.MaxBatch},
	}
	out := make(hpo.Space, 0, len(space))
	for _, prm := range space {
		lim, ok := caps[prm.Name]
		ch, isChoice := prm.Domain.(hpo.Choice)
		if !ok || !isChoice || (lim[0] == 0 && lim[1] == 0) {
			out = append(out, prm)
			continue
		}
		narrowed := hpo.Choice{Ordered: ch.Ordered}
		for _, v := range ch.Values {
			n, _ := v.(int)
			if (lim[0] == 0 || n >= lim[0]) && (lim[1] == 0 || n <= lim[1]) {
				narrowed.Values = append(narrowed.Values, v)
			}
		}
		if len(narrowed.Values) == 0 {
			return nil, fmt.Errorf("%w: the caps leave no value of %s in %v", ErrConfig, prm.Name, ch.Values)
		}
		out = append(out, hpo.Param{Name: prm.Name, Domain: narrowed})
	}
	return out, out.Validate()
}
