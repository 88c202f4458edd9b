// Command gpucheck verifies training through XLA (on a GPU, with a PJRT
// plugin) against GoMLX's pure-Go backend, which the tests cover:
//
//  1. Parity: the case-1 CNN starting from the same weights (a trainer
//     checkpoint made on the Go backend, restored on the XLA one) gives the
//     same training losses step by step and the same validation loss after
//     those steps on both backends, within a tolerance that allows for TF32
//     matrix products on the GPU.
//     The Go side uses the im2col layers, the XLA side GoMLX's standard
//     convolution and pooling, so this also checks those two agree.
//  2. Learning: on a small learnable synthetic task, a few epochs through
//     XLA reach a validation accuracy far above chance.
//
// It prints a report and exits non-zero when a check fails. Build it with
// XLA compiled in and run it with the backend chosen by the environment
// (see scripts/gpu/check.sh):
//
//	GOEXPERIMENT=simd go build -tags xla -o bin/gpucheck ./scripts/gpucheck
//	GOMLX_BACKEND=xla:/abs/path/xla_cuda_plugin.so bin/gpucheck
//
// Run on the Go backend it checks Go against Go (a dry run).
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/nn"
)

// toyData is the setup of cifar.Synthetic (a learnable 10-class stand-in)
// split 70/30 on the backend spec ("": the backend under test).
func toyData(n int, seed uint64, spec string) trainer.Setup {
	return trainer.Setup{Load: func(context.Context) (*cifar.Dataset, error) { return cifar.Synthetic(n, 10, seed), nil },
		Split: cifar.SplitConfig{Seed: seed}, Backend: spec}
}

type report struct{ failed bool }

func (r *report) check(ok bool, format string, args ...any) {
	status := "ok  "
	if !ok {
		status, r.failed = "FAIL", true
	}
	fmt.Printf("%s %s\n", status, fmt.Sprintf(format, args...))
}

func main() {
	steps := flag.Int("steps", 5, "training steps compared between the backends")
	tol := flag.Float64("tol", 2e-2, "relative tolerance of the parity checks (TF32 on GPUs)")
	flag.Parse()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "gpucheck:", err)
		os.Exit(1)
	}
	ctx := context.Background()
	goEnv, err := toyData(400, 1, "go").Open(ctx)
	if err != nil {
		fail(err)
	}
	defer goEnv.Close()
	env, err := toyData(400, 1, "").Open(ctx)
	if err != nil {
		fail(err)
	}
	defer env.Close()
	spec := env.Spec
	fmt.Printf("backend under test: %s\nreference: %s\n\n", env.Describe(), goEnv.Describe())

	var r report
	net := cnn.Config{Case: cnn.Case1, Conv: [3]int{16, 32, 32}, FC: [2]int{64, 32}}
	mk := func(e *trainer.Env, impl nn.Impl) *trainer.Trainer {
		n := net
		n.Impl = impl
		t, err := e.New(trainer.Config{Net: n, BatchSize: 16, Optimizer: hgd.Defaults(hgd.Momentum), Seed: 3}) // α = 0.01, γ = 0.9
		if err != nil {
			fail(err)
		}
		return t
	}
	// 1. Parity.
	ref := mk(goEnv, nn.Im2Col)
	if _, err := ref.Step(); err != nil { // creates and initializes the variables
		fail(err)
	}
	dir, err := os.MkdirTemp("", "gpucheck-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	if err := ref.Save(dir); err != nil {
		fail(err)
	}
	dut := mk(env, nn.Auto) // trainer.New picks the implementation for be
	if err := dut.Restore(dir); err != nil {
		fail(err)
	}
	worst := 0.0
	for i := range *steps {
		lr, err := ref.Step()
		if err != nil {
			fail(err)
		}
		ld, err := dut.Step()
		if err != nil {
			fail(err)
		}
		rel := math.Abs(lr-ld) / math.Max(1e-6, math.Abs(lr))
		worst = max(worst, rel)
		fmt.Printf("     step %d: loss %.6f (go) %.6f (%s), relative difference %.2g\n", i+2, lr, ld, backend.Name(spec), rel)
	}
	r.check(worst <= *tol, "training losses agree over %d steps (worst relative difference %.2g ≤ %g)", *steps, worst, *tol)
	er, err := ref.Evaluate(ctx)
	if err != nil {
		fail(err)
	}
	ed, err := dut.Evaluate(ctx)
	if err != nil {
		fail(err)
	}
	rel := math.Abs(er.Loss-ed.Loss) / math.Max(1e-6, er.Loss)
	r.check(rel <= *tol, "validation loss agrees after training: %.6f (go) vs %.6f (relative %.2g)", er.Loss, ed.Loss, rel)
	ref.Close()
	dut.Close()

	// 2. Learning through the backend under test.
	// On the same backend (no second client of the device).
	learn, err := trainer.SplitData(cifar.Synthetic(1000, 10, 2), cifar.SplitConfig{Seed: 2})
	if err != nil {
		fail(err)
	}
	t, err := trainer.New(env.Backend, learn, trainer.Config{Net: net, BatchSize: 16, Seed: 1, Unit: trainer.Epochs})
	if err != nil {
		fail(err)
	}
	start := time.Now()
	best := 0.0
	for epoch := 1; epoch <= 6; epoch++ {
		res, err := t.Train(ctx, epoch)
		if err != nil {
			fail(err)
		}
		best = max(best, res.Metrics[trainer.MetricAccuracy])
		fmt.Printf("     epoch %d: validation accuracy %.3f, α %.4g, γ %.4f\n", epoch, res.Metrics[trainer.MetricAccuracy],
			res.Metrics[trainer.MetricAlpha], res.Metrics[trainer.MetricGamma])
	}
	t.Close()
	r.check(best >= 0.3, "HGD learns the synthetic task through %s: best validation accuracy %.3f (chance 0.1) in %v",
		backend.Name(spec), best, time.Since(start).Round(time.Millisecond))
	if r.failed {
		os.Exit(1)
	}
}
