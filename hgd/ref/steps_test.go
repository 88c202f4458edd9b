package ref_test

import (
	"math"
	"testing"

	"github.com/hgdtune/hgdtune/hgd/ref"
)

func clone2(p [][]float64) [][]float64 {
	out := make([][]float64, len(p))
	for i := range p {
		out[i] = append([]float64(nil), p[i]...)
	}
	return out
}

// TestDirectionSteps checks the direction steps on one coordinate against
// their formulas written out, and that none modifies its arguments.
func TestDirectionSteps(t *testing.T) {
	theta, g, b, sq := [][]float64{{1, -2}, {3}}, [][]float64{{0.5, 1}, {-1}}, [][]float64{{0.25, 0}, {2}}, [][]float64{{0.5, 1}, {0}}
	keep := [][][]float64{clone2(theta), clone2(g), clone2(b), clone2(sq)}
	const a, gm, b1, b2, eps, step = 0.1, 0.9, 0.8, 0.99, 1e-8, 2
	check := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-15*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}

	check("SGDStep", ref.SGDStep(a, theta, g)[1][0], 3-a*-1)

	p, d := ref.MomentumStep(a, gm, theta, g, b)
	check("MomentumStep Δ'", d[1][0], gm*2-a*-1)
	check("MomentumStep θ'", p[1][0], 3+gm*2-a*-1)

	p, v, dir := ref.NesterovStep(a, gm, theta, g, b)
	check("NesterovStep v'", v[1][0], gm*2-1)
	check("NesterovStep d", dir[1][0], -1+gm*(gm*2-1))
	check("NesterovStep θ'", p[1][0], 3-a*(-1+gm*(gm*2-1)))

	p, m1, m2, dir := ref.AdamStep(a, b1, b2, eps, step, theta, g, b, sq)
	wm1, wm2 := b1*2+(1-b1)*-1, b2*0+(1-b2)*1
	wd := wm1 / (1 - b1*b1) / (math.Sqrt(wm2/(1-b2*b2)) + eps)
	check("AdamStep m1'", m1[1][0], wm1)
	check("AdamStep m2'", m2[1][0], wm2)
	check("AdamStep d", dir[1][0], wd)
	check("AdamStep θ'", p[1][0], 3-a*wd)

	for i, x := range [][][]float64{theta, g, b, sq} {
		if !equalParams(x, keep[i]) {
			t.Errorf("argument %d modified: %v, was %v", i, x, keep[i])
		}
	}
}
