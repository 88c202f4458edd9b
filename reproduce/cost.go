package reproduce

import (
	"time"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hpo"
)

// The compute clock's cost model (Preset.Clock "compute"): what a trial is
// charged for its training steps and evaluations, in seconds of one core of
// the reference machine. Measured with `GOEXPERIMENT=simd go run
// ./scripts/calibrate` on the project's development machine (AMD EPYC, 2
// cores; GOMAXPROCS=1, the pure-Go backend, GoMLX v0.28.2) on 2026-12-01:
// the fastest of 3 timings of 20 steps of six case-1 networks across the
// cpu presets' space (batch 16–64), fitted within ±10%.
const (
	// CostStepOverhead is the fixed cost of a training step (seconds).
	CostStepOverhead = 6.922e-3
	// CostStepPerFLOP is the cost of a training step per floating-point
	// operation of its forward pass over the batch, ×3 (forward and
	// backward): step = overhead + CostStepPerFLOP·3·FLOPs·batch.
	CostStepPerFLOP = 1.149e-10
	// CostEvalPerFLOP is the cost of evaluating one image per FLOP of its
	// forward pass.
	CostEvalPerFLOP = 2.479e-10
	// CostHGDFactor is HGD's step time over SGD+momentum's (its
	// hypergradient steps), charged to the HGD arm so that the comparison
	// stays honest about the overhead.
	CostHGDFactor = 1.0067
)

// stepCost is the compute-clock cost of one training step of net with the
// given batch size and optimizer kind.
func stepCost(net cnn.Config, batch int, kind hgd.Kind) float64 {
	s := CostStepOverhead + CostStepPerFLOP*3*net.FLOPs()*float64(batch)
	if kind != hgd.Momentum && kind != hgd.SGD {
		s *= CostHGDFactor
	}
	return s
}

// evalCost is the compute-clock cost of evaluating images images with net.
func evalCost(net cnn.Config, images int) float64 {
	return CostEvalPerFLOP * net.FLOPs() * float64(images)
}

// trialCost returns the compute-clock cost of training a trial of the
// preset's case in arm from budget from to budget until (epochs of
// trainImages images) and evaluating it on evalImages images: what
// hpo.Experiment charges each job in compute-time mode. A configuration
// that does not map to a network costs its evaluation's share of nothing:
// its factory fails the trial anyway.
func trialCost(p Preset, arm cnn.Arm, trainImages, evalImages int) func(cfg hpo.Config, from, until int) time.Duration {
	return func(cfg hpo.Config, from, until int) time.Duration {
		tr, err := cnn.FromConfig(p.Case(), arm, cfg)
		if err != nil || tr.BatchSize < 1 {
			return 0
		}
		steps := max(until-from, 0) * (trainImages / tr.BatchSize)
		s := float64(steps)*stepCost(tr.Net, tr.BatchSize, tr.Optimizer.Kind) + evalCost(tr.Net, evalImages)
		return time.Duration(s * float64(time.Second))
	}
}
