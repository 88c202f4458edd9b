package cnn

import (
	"fmt"

	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hpo"
)

// Names of the hyperparameters in the search spaces.
const (
	ParamConv1        = "conv1"
	ParamConv2        = "conv2"
	ParamConv3        = "conv3"
	ParamFC1          = "fc1"
	ParamFC2          = "fc2"
	ParamBatchSize    = "batch_size"
	ParamLearningRate = "learning_rate"
	ParamMomentum     = "momentum"
)

// OptimizerParams are the hyperparameters that belong to the optimizer: the
// HGD arm removes them from the search space and adapts them online.
var optimizerParams = []string{ParamLearningRate, ParamMomentum}

// OptimizerParams returns the names of the optimizer's hyperparameters
// (learning rate and momentum).
func OptimizerParams() []string { return append([]string(nil), optimizerParams...) }

// Table 2's continuous domains, shared by both cases.
var (
	LearningRateDomain = hpo.Float{Low: 1e-5, High: 0.2, Log: true}
	MomentumDomain     = hpo.Float{Low: 0.7, High: 0.99}
)

// Arm is one arm of the paper's comparison.
type Arm int

const (
	// ArmSGD searches learning rate and momentum with SGD+momentum.
	ArmSGD Arm = iota
	// ArmHGD drops them from the space; the HGD optimizer adapts them.
	ArmHGD
)

func (a Arm) String() string {
	if a == ArmHGD {
		return "hgd"
	}
	return "sgd"
}

// ParseArm accepts "sgd" and "hgd".
func ParseArm(s string) (Arm, error) {
	switch s {
	case "sgd":
		return ArmSGD, nil
	case "hgd":
		return ArmHGD, nil
	}
	return 0, fmt.Errorf("cnn: unknown arm %q (want sgd or hgd)", s)
}

func ordered(vals []int) hpo.Choice {
	c := hpo.Choice{Ordered: true}
	for _, v := range vals {
		c.Values = append(c.Values, v)
	}
	return c
}

// Space returns Table 2's search space of a case for an arm: the five
// widths and the batch size as ordered choices, and (SGD arm only) the
// learning rate, log-uniform in [1e-5, 0.2], and the momentum, uniform in
// [0.7, 0.99].
func Space(c Case, arm Arm) hpo.Space {
	w := Table2(c)
	s := hpo.Space{
		{Name: ParamConv1, Domain: ordered(w.Conv[0])},
		{Name: ParamConv2, Domain: ordered(w.Conv[1])},
		{Name: ParamConv3, Domain: ordered(w.Conv[2])},
		{Name: ParamFC1, Domain: ordered(w.FC[0])},
		{Name: ParamFC2, Domain: ordered(w.FC[1])},
		{Name: ParamBatchSize, Domain: ordered(w.Batch)},
	}
	if arm == ArmSGD {
		s = append(s,
			hpo.Param{Name: ParamLearningRate, Domain: LearningRateDomain},
			hpo.Param{Name: ParamMomentum, Domain: MomentumDomain})
	}
	return s
}

// Trial is what one configuration of a search space means for training.
type Trial struct {
	Net       Config
	BatchSize int
	// Optimizer is the arm's optimizer: hgd.Defaults(hgd.HGD) in the HGD
	// arm; in the SGD arm hgd.Defaults(hgd.Momentum) with the sampled
	// learning rate as Alpha0 and the sampled momentum as Gamma0 (both
	// within their domains: FromConfig checks them against the space).
	Optimizer hgd.Config
}

// FromConfig interprets a configuration of Space(c, arm): all its
// parameters must be present, in their domains, and no others.
func FromConfig(c Case, arm Arm, cfg hpo.Config) (Trial, error) {
	norm, err := Space(c, arm).Normalize(cfg)
	if err != nil {
		return Trial{}, fmt.Errorf("%w: %s/%s space: %w", ErrConfig, c, arm, err)
	}
	geti := func(name string) (int, error) {
		v, ok := norm[name].(int)
		if !ok {
			return 0, fmt.Errorf("%w: parameter %q missing or not an int", ErrConfig, name)
		}
		return v, nil
	}
	t := Trial{Net: Config{Case: c}, Optimizer: hgd.Defaults(hgd.HGD)}
	for i, name := range []string{ParamConv1, ParamConv2, ParamConv3} {
		if t.Net.Conv[i], err = geti(name); err != nil {
			return Trial{}, err
		}
	}
	for i, name := range []string{ParamFC1, ParamFC2} {
		if t.Net.FC[i], err = geti(name); err != nil {
			return Trial{}, err
		}
	}
	if t.BatchSize, err = geti(ParamBatchSize); err != nil {
		return Trial{}, err
	}
	if arm == ArmSGD {
		lr, ok1 := norm[ParamLearningRate].(float64)
		momentum, ok2 := norm[ParamMomentum].(float64)
		if !ok1 || !ok2 {
			return Trial{}, fmt.Errorf("%w: the SGD arm needs %s and %s", ErrConfig, ParamLearningRate, ParamMomentum)
		}
		t.Optimizer = hgd.Defaults(hgd.Momentum)
		t.Optimizer.Alpha0, t.Optimizer.Gamma0 = lr, momentum
	}
	return t, t.Net.Validate()
}
