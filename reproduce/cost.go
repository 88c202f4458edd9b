package reproduce

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hpo"
)

// CostModel is a price list of the compute clock (Preset.Clock "compute"):
// what a trial is charged for its training steps and evaluations, in
// seconds of one core of the reference machine,
//
//	step = StepOverhead + StepPerFLOP · 3 · FLOPs(net) · batch   (× HGDFactor for the HGD arm's optimizers)
//	eval = EvalPerFLOP · FLOPs(net)                               (per image)
//
// fitted by `scripts/calibrate` (GOMAXPROCS=1, the pure-Go backend) on the
// fastest of 3 timings of 20 steps of six case-1 networks across the cpu
// presets' space (batch 16–64).
//
// A results folder records the model its runs were charged with by name
// (config.json's preset "costs"; also the settings of a shared
// reproduction), because the costs are part of the results: a folder is
// resumed, replayed and summarized with its own model, whatever the current
// one is. The models are never changed once published; a new calibration is
// a new model with a new name.
type CostModel struct {
	// Name identifies the model in results folders.
	Name string
	// Measured says where, on what and when the model was fitted.
	Measured string
	// StepOverhead is the fixed cost of a training step (seconds).
	StepOverhead float64
	// StepPerFLOP is the cost of a training step per floating-point
	// operation of its forward pass over the batch, ×3 (forward and
	// backward).
	StepPerFLOP float64
	// EvalPerFLOP is the cost of evaluating one image per FLOP of its
	// forward pass.
	EvalPerFLOP float64
	// HGDFactor is the step time of the HGD arm's optimizers over
	// SGD+momentum's (their hypergradient steps), charged to the HGD arm so
	// that the comparison stays honest about the overhead.
	HGDFactor float64
}

// The cost models by name.
const (
	// CostsGoMLX0282 is the model of GoMLX v0.28.2 / compute v0.1.2 on Go
	// 1.26.8. A folder whose config.json has the compute clock and names no
	// model is read with it.
	CostsGoMLX0282 = "gomlx-v0.28.2"
	// CostsGoMLX02816 is the model of GoMLX v0.28.16 / compute v0.1.14 on
	// Go 1.27.3.
	CostsGoMLX02816 = "gomlx-v0.28.16"
	// CostsCurrent is the model of new experiments (Preset.Costs "").
	CostsCurrent = CostsGoMLX02816
)

// CostModels returns the published cost models, oldest first.
func CostModels() []CostModel {
	return []CostModel{
		{
			Name:     CostsGoMLX0282,
			Measured: "AMD EPYC, 2 cores (one used), GoMLX v0.28.2, compute v0.1.2, go1.26.8 GOEXPERIMENT=simd, 2026-12-01",
			// scripts/calibrate, fitted within ±10%; its evaluation time
			// included compiling the evaluation graph.
			StepOverhead: 6.922e-3, StepPerFLOP: 1.149e-10, EvalPerFLOP: 2.479e-10, HGDFactor: 1.0067,
		},
		{
			Name: CostsGoMLX02816,
			Measured: "AMD EPYC, 2 cores (one used), GoMLX v0.28.16, compute v0.1.14, go1.27.3 GOEXPERIMENT=simd, 2026-12-06, " +
				"in seconds of gomlx-v0.28.2's machine",
			// scripts/calibrate -baseline (a build at gomlx-v0.28.2's
			// commit) -steps 50 -repeats 5: this build's steps were 1.73×
			// faster than the baseline's in the same run (geometric mean,
			// 1.59–1.92 over the six networks), and the day's machine ran
			// the baseline 1/0.724 times slower than gomlx-v0.28.2 charges,
			// so the day's fit (4.968e-3 s, 1.009e-10 s, 2.227e-10 s) is
			// scaled by 0.724. HGD's steps measured 0.997× SGD's (0.957–
			// 1.025): no overhead is measurable, and HGD is never charged
			// less than SGD. docs/results/throughput-cpu.md has the run.
			StepOverhead: 3.597e-3, StepPerFLOP: 7.307e-11, EvalPerFLOP: 1.612e-10, HGDFactor: 1,
		},
	}
}

// CostModelNamed returns the cost model called name ("" is CostsCurrent).
func CostModelNamed(name string) (CostModel, error) {
	if name == "" {
		name = CostsCurrent
	}
	models := CostModels()
	if i := slices.IndexFunc(models, func(m CostModel) bool { return m.Name == name }); i >= 0 {
		return models[i], nil
	}
	return CostModel{}, fmt.Errorf("%w: unknown cost model %q (want %s)", ErrConfig, name, strings.Join(CostModelNames(), " or "))
}

// CostModelNames lists the published cost models' names, oldest first.
func CostModelNames() []string {
	var names []string
	for _, m := range CostModels() {
		names = append(names, m.Name)
	}
	return names
}

// Step is the cost (seconds) of one training step of net with the given
// batch size and optimizer kind.
func (m CostModel) Step(net cnn.Config, batch int, kind hgd.Kind) float64 {
	s := m.StepOverhead + m.StepPerFLOP*3*net.FLOPs()*float64(batch)
	if kind != hgd.Momentum && kind != hgd.SGD {
		s *= m.HGDFactor
	}
	return s
}

// Eval is the cost (seconds) of evaluating images images with net.
func (m CostModel) Eval(net cnn.Config, images int) float64 {
	return m.EvalPerFLOP * net.FLOPs() * float64(images)
}

// trialCost returns the compute-clock cost, under model m, of training a
// trial of the preset's case in arm from budget from to budget until
// (epochs of trainImages images) and evaluating it on evalImages images:
// what hpo.Experiment charges each job in compute-time mode. A
// configuration that does not map to a network costs nothing: its factory
// fails the trial anyway.
func (m CostModel) trialCost(p Preset, arm cnn.Arm, trainImages, evalImages int) func(cfg hpo.Config, from, until int) time.Duration {
	return func(cfg hpo.Config, from, until int) time.Duration {
		tr, err := cnn.FromConfig(p.Case(), arm, cfg)
		if err != nil || tr.BatchSize < 1 {
			return 0
		}
		steps := max(until-from, 0) * (trainImages / tr.BatchSize)
		s := float64(steps)*m.Step(tr.Net, tr.BatchSize, tr.Optimizer.Kind) + m.Eval(tr.Net, evalImages)
		return time.Duration(s * float64(time.Second))
	}
}
