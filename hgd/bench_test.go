package hgd_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/hgd"
)

// benchDims is the MLP of the step benchmark: 3072→320→128→10
// (1,025,898 parameters), batch benchBatch.
var benchDims = []int{3072, 320, 128, 10}

const benchBatch = 128

// newBenchTrainer builds a trainer for the benchmark MLP with a fixed batch
// held in the graph as constants (so both arms do the same host work).
func newBenchTrainer(tb testing.TB, kind hgd.Kind) *train.Trainer {
	tb.Helper()
	b := backendtest.Go(tb)
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, benchBatch*benchDims[0])
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	onehot := make([]float32, benchBatch*10)
	for i := range benchBatch {
		onehot[i*10+rng.IntN(10)] = 1
	}
	xt := tensors.FromFlatDataAndDimensions(x, benchBatch, benchDims[0])
	yt := tensors.FromFlatDataAndDimensions(onehot, benchBatch, 10)
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(42))
	modelFn := func(scope *model.Scope, dummy *Node) *Node {
		g := dummy.Graph()
		h := Const(g, xt)
		for i := range len(benchDims) - 1 {
			s := scope.In("dense%d", i)
			w := s.VariableWithShape("w", shapes.Make(dtypes.Float32, benchDims[i], benchDims[i+1])).NodeValue(g)
			bias := s.VariableWithShape("b", shapes.Make(dtypes.Float32, 1, benchDims[i+1])).NodeValue(g)
			h = Add(Dot(h, w).Product(), bias)
			if i < len(benchDims)-2 {
				h = Max(h, ScalarZero(g, dtypes.Float32))
			}
		}
		lse := Log(ReduceSum(Exp(h), -1))
		return ReduceAllMean(Sub(lse, ReduceSum(Mul(Const(g, yt), h), -1)))
	}
	lossFn := func(_, predictions []*Node) *Node { return predictions[0] }
	tr := train.NewTrainer(b, store, modelFn, lossFn, hgd.New(benchConfig(kind)), nil, nil)
	if n := store.NumParameters(); n != 0 && n < 1_000_000 {
		tb.Fatalf("benchmark MLP has %d parameters", n)
	}
	return tr
}

func benchStep(tb testing.TB, tr *train.Trainer) {
	if _, err := tr.TrainStep(train.Batch{Inputs: []*tensors.Tensor{tensors.FromScalar(float32(1))}}); err != nil {
		tb.Fatal(err)
	}
}

func benchmarkStep(b *testing.B, kind hgd.Kind) {
	tr := newBenchTrainer(b, kind)
	benchStep(b, tr) // compile
	benchStep(b, tr)
	b.ResetTimer()
	for b.Loop() {
		benchStep(b, tr)
	}
}

// BenchmarkStepSGD is one training step of the 1M-parameter MLP with
// SGD+momentum (hgd.Momentum, the paper's "SGD" arm).
func BenchmarkStepSGD(b *testing.B) { benchmarkStep(b, hgd.Momentum) }

// BenchmarkStepHGD is the same step with HGD.
func BenchmarkStepHGD(b *testing.B) { benchmarkStep(b, hgd.HGD) }

// BenchmarkStepRatio measures HGD/SGD+momentum step time on the benchmark
// MLP, interleaving the two arms in rounds of 10 steps (the CPU may be
// shared), and reports the median per-round ratio as "hgd/sgd":
//
//	GOEXPERIMENT=simd go test ./hgd -run '^$' -bench StepRatio -benchtime 30x
func BenchmarkStepRatio(b *testing.B) {
	const stepsPerRound = 10
	sgd, hg := newBenchTrainer(b, hgd.Momentum), newBenchTrainer(b, hgd.HGD)
	for range 3 {
		benchStep(b, sgd)
		benchStep(b, hg)
	}
	timeIt := func(tr *train.Trainer) time.Duration {
		start := time.Now()
		for range stepsPerRound {
			benchStep(b, tr)
		}
		return time.Since(start) / stepsPerRound
	}
	var ratios []float64
	b.ResetTimer()
	for r := 0; b.Loop(); r++ {
		var s, h time.Duration
		if r%2 == 0 {
			s, h = timeIt(sgd), timeIt(hg)
		} else {
			h, s = timeIt(hg), timeIt(sgd)
		}
		ratios = append(ratios, float64(h)/float64(s))
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "hgd/sgd")
}

// benchConfig is kind's default configuration with α0 = 1e-3.
func benchConfig(kind hgd.Kind) hgd.Config {
	c := hgd.Defaults(kind)
	c.Alpha0 = 1e-3
	return c
}
