package hgd

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX's graph DSL

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/hgd/ref"
)

// TestStepParity checks the scalar steps of the chain one by one against
// their float64 counterparts in package ref: nextAlpha against
// ref.NextAlpha, nextGamma against ref.NextGamma (plain and normalized,
// bounded and not, including a zero-norm cosine and a projection), and
// addWeightDecay against g + wd·θ. TestDirectionStepParity does the same
// for the direction steps.
func TestStepParity(t *testing.T) {
	be := backendtest.Go(t)
	f64 := dtypes.Float64
	type in struct{ x, h, gg, sq float64 }
	inputs := []in{{0.01, 3, 4, 2}, {0.1, -50, 1, 1}, {0.05, 2, 0, 5}, {0.5, 1e3, 9, 16}, {0.02, -0.3, 2, 0}}
	for _, normalized := range []bool{false, true} {
		for _, unbounded := range []bool{false, true} {
			c := ref.Defaults(ref.HGD)
			c.Beta, c.Eta, c.Normalized, c.Unbounded, c.AlphaMin = 0.01, 0.02, normalized, unbounded, 1e-3
			exec := MustNewExec(be, func(x, h, gg, sq *Node) (*Node, *Node) {
				g := x.Graph()
				return nextAlpha(c, x, Scalar(g, f64, c.Beta), h, gg, sq), nextGamma(c, x, Scalar(g, f64, c.Eta), h, gg, sq)
			})
			for _, v := range inputs {
				out := exec.MustCall(v.x, v.h, v.gg, v.sq)
				a, g := out[0].Value().(float64), out[1].Value().(float64)
				wa, wg := ref.NextAlpha(c, v.x, v.h, v.gg, v.sq), ref.NextGamma(c, v.x, v.h, v.gg, v.sq)
				if math.Abs(a-wa) > 1e-15*math.Max(1, math.Abs(wa)) || math.Abs(g-wg) > 1e-15*math.Max(1, math.Abs(wg)) {
					t.Errorf("normalized=%v unbounded=%v %+v: α %v γ %v, ref %v %v", normalized, unbounded, v, a, g, wa, wg)
				}
			}
		}
	}
	wd := MustNewExec(be, func(theta, grad *Node) *Node {
		return addWeightDecay([]*Node{theta}, []*Node{grad}, 0.1)[0]
	})
	got := wd.MustCall([]float64{1, -2, 3}, []float64{0.5, 0.5, 0.5})[0].Value().([]float64)
	for i, want := range []float64{0.6, 0.3, 0.8} {
		if math.Abs(got[i]-want) > 1e-15 {
			t.Errorf("addWeightDecay: %v", got)
		}
	}
}

// TestDirectionStepParity builds each direction step of the chain on two
// small tensors, in float32 and float64, and compares every output with its
// function in package ref: sgdStep with ref.SGDStep, momentumStep with
// ref.MomentumStep, nesterovStep with ref.NesterovStep and adamStep (with
// adamBiasCorrection) with ref.AdamStep. The inputs are dyadic, so float32
// holds them exactly and only the steps' own rounding is measured: 1e-6
// relative (absolute below 1) in float32, 1e-12 in float64.
func TestDirectionStepParity(t *testing.T) {
	be := backendtest.Go(t)
	theta := [][]float64{{1, -2, 3}, {0.5, 0.25}}
	grad := [][]float64{{0.3125, -0.6875, 1.125}, {-0.1875, 0.875}}
	buf := [][]float64{{0.0625, 0.125, -0.1875}, {0.375, -0.03125}} // Δ, v, m1
	sq := [][]float64{{0.015625, 0.1875, 0.046875}, {0.3125, 0.001953125}}
	const (
		alpha, gamma = 0.0625, 0.75
		beta1, beta2 = 0.875, 1 - 1.0/1024
		eps          = 0x1p-20
		step         = 3
	)
	refMomentum, refDelta := ref.MomentumStep(alpha, gamma, theta, grad, buf)
	refNesterov, refV, refNesterovDir := ref.NesterovStep(alpha, gamma, theta, grad, buf)
	refAdam, refM1, refM2, refAdamDir := ref.AdamStep(alpha, beta1, beta2, eps, step, theta, grad, buf, sq)

	// in turns the inputs into nodes of the dtype under test.
	type in struct {
		g                    *Graph
		dtype                dtypes.DType
		theta, grad, buf, sq []*Node
	}
	s := func(x in, v float64) *Node { return Scalar(x.g, x.dtype, v) }
	cases := []struct {
		name  string
		build func(x in) [][]*Node
		want  [][][]float64
	}{
		{"sgd", func(x in) [][]*Node {
			return [][]*Node{sgdStep(s(x, alpha), x.theta, x.grad)}
		}, [][][]float64{ref.SGDStep(alpha, theta, grad)}},
		{"momentum", func(x in) [][]*Node {
			out, d := momentumStep(s(x, alpha), s(x, gamma), x.theta, x.grad, x.buf)
			return [][]*Node{out, d}
		}, [][][]float64{refMomentum, refDelta}},
		{"nesterov", func(x in) [][]*Node {
			out, v, d := nesterovStep(s(x, alpha), s(x, gamma), x.theta, x.grad, x.buf)
			return [][]*Node{out, v, d}
		}, [][][]float64{refNesterov, refV, refNesterovDir}},
		{"adam", func(x in) [][]*Node {
			tt := s(x, step)
			c1, c2 := adamBiasCorrection(s(x, beta1), tt), adamBiasCorrection(s(x, beta2), tt)
			out, m1, m2, d := adamStep(s(x, alpha), s(x, beta1), s(x, beta2), c1, c2, s(x, eps), x.theta, x.grad, x.buf, x.sq)
			return [][]*Node{out, m1, m2, d}
		}, [][][]float64{refAdam, refM1, refM2, refAdamDir}},
	}
	for _, dt := range []struct {
		dtype dtypes.DType
		tol   float64
	}{{dtypes.Float32, 1e-6}, {dtypes.Float64, 1e-12}} {
		for _, tc := range cases {
			outs := MustExecOnceN(be, func(g *Graph) []*Node {
				nodes := func(p [][]float64) []*Node {
					out := make([]*Node, len(p))
					for i := range p {
						out[i] = ConvertDType(Const(g, p[i]), dt.dtype)
					}
					return out
				}
				x := in{g, dt.dtype, nodes(theta), nodes(grad), nodes(buf), nodes(sq)}
				var flat []*Node
				for _, group := range tc.build(x) {
					for _, n := range group {
						flat = append(flat, ConvertDType(n, dtypes.Float64))
					}
				}
				return flat
			})
			k := 0
			for o, want := range tc.want {
				for i := range want {
					got := outs[k].Value().([]float64)
					k++
					for j := range want[i] {
						if d := math.Abs(got[j] - want[i][j]); d > dt.tol*math.Max(1, math.Abs(want[i][j])) {
							t.Errorf("%s %v: output %d, tensor %d[%d] = %v, ref %v (|Δ| %.3g)", tc.name, dt.dtype, o, i, j, got[j], want[i][j], d)
						}
					}
				}
			}
			if k != len(outs) {
				t.Errorf("%s %v: %d outputs, compared %d", tc.name, dt.dtype, len(outs), k)
			}
		}
	}
}
