package hgd

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX's graph DSL

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/hgd/ref"
)

// TestStepParity checks the scalar steps of the chain one by one against
// their float64 counterparts in package ref: nextAlpha against
// ref.NextAlpha, nextGamma against ref.NextGamma (plain and normalized,
// bounded and not, including a zero-norm cosine and a projection), and
// addWeightDecay against g + wd·θ. The direction steps are each the
// only difference between TestParity's cases of their kinds.
func TestStepParity(t *testing.T) {
	be, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
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
