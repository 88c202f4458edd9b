package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/hgdtune/hgdtune/backend/backendtest"
)

// refConv2D is the textbook definition: out[b,y,x,o] = Σ_{dy,dx,c}
// in[b, y+dy−p, x+dx−p, c]·k[dy,dx,c,o], zero outside the image.
func refConv2D(in []float32, b, h, w, c int, k []float32, ks, cout int) []float64 {
	out := make([]float64, b*h*w*cout)
	p := ks / 2
	for n := 0; n < b; n++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				for o := 0; o < cout; o++ {
					var s float64
					for dy := 0; dy < ks; dy++ {
						for dx := 0; dx < ks; dx++ {
							yy, xx := y+dy-p, x+dx-p
							if yy < 0 || yy >= h || xx < 0 || xx >= w {
								continue
							}
							for ci := 0; ci < c; ci++ {
								s += float64(in[((n*h+yy)*w+xx)*c+ci]) * float64(k[((dy*ks+dx)*c+ci)*cout+o])
							}
						}
					}
					out[((n*h+y)*w+x)*cout+o] = s
				}
			}
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func flat(t *tensors.Tensor) []float32 {
	var out []float32
	t.ConstFlatData(func(flat any) { out = append(out, flat.([]float32)...) })
	return out
}

func assertClose(t *testing.T, name string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d != %d", name, len(got), len(want))
	}
	var scale float64
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol*math.Max(1, scale) {
			t.Fatalf("%s[%d] = %g, want %g (|diff| %g > %g)", name, i, got[i], want[i], d, tol*math.Max(1, scale))
		}
	}
}

func to64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

// TestConv2DParity checks the im2col path against the direct definition
// (forward) and against GoMLX's own Convolve (forward and both gradients).
func TestConv2DParity(t *testing.T) {
	be := backendtest.Go(t)
	for _, tc := range []struct{ b, h, w, c, k, cout int }{
		{2, 6, 6, 3, 3, 4},
		{1, 8, 4, 5, 3, 2},
		{3, 4, 4, 2, 1, 3},
		{1, 7, 7, 2, 5, 3},
	} {
		r := rand.New(rand.NewPCG(1, uint64(tc.h*100+tc.k)))
		xs := randSlice(r, tc.b*tc.h*tc.w*tc.c)
		ks := randSlice(r, tc.k*tc.k*tc.c*tc.cout)
		rs := randSlice(r, tc.b*tc.h*tc.w*tc.cout)
		x := tensors.FromFlatDataAndDimensions(xs, tc.b, tc.h, tc.w, tc.c)
		k := tensors.FromFlatDataAndDimensions(ks, tc.k, tc.k, tc.c, tc.cout)
		rr := tensors.FromFlatDataAndDimensions(rs, tc.b, tc.h, tc.w, tc.cout)
		run := func(impl Impl) [][]float32 {
			exec := MustNewExec(be, func(x, k, r *Node) []*Node {
				out := Conv2D(x, k, impl)
				loss := ReduceAllSum(Mul(out, r))
				grads := Gradient(loss, x, k)
				return []*Node{out, grads[0], grads[1]}
			})
			defer exec.Finalize()
			outs := exec.MustCall(x, k, rr)
			return [][]float32{flat(outs[0]), flat(outs[1]), flat(outs[2])}
		}
		fast, std := run(Im2Col), run(Standard)
		want := refConv2D(xs, tc.b, tc.h, tc.w, tc.c, ks, tc.k, tc.cout)
		assertClose(t, "im2col forward", fast[0], want, 1e-5)
		assertClose(t, "standard forward", std[0], want, 1e-5)
		assertClose(t, "dL/dx", fast[1], to64(std[1]), 1e-5)
		assertClose(t, "dL/dkernel", fast[2], to64(std[2]), 1e-5)
	}
}

// TestMaxPool2 checks forward and gradient against the definition: the
// gradient flows to the arg-max of each 2×2 window.
func TestMaxPool2(t *testing.T) {
	be := backendtest.Go(t)
	const b, h, w, c = 2, 4, 6, 3
	r := rand.New(rand.NewPCG(7, 7))
	xs := randSlice(r, b*h*w*c) // continuous values: no ties
	rs := randSlice(r, b*(h/2)*(w/2)*c)
	x := tensors.FromFlatDataAndDimensions(xs, b, h, w, c)
	rr := tensors.FromFlatDataAndDimensions(rs, b, h/2, w/2, c)
	exec := MustNewExec(be, func(x, r *Node) []*Node {
		out := MaxPool2(x, Im2Col)
		return []*Node{out, Gradient(ReduceAllSum(Mul(out, r)), x)[0]}
	})
	defer exec.Finalize()
	outs := exec.MustCall(x, rr)
	wantOut := make([]float64, len(rs))
	wantGrad := make([]float64, len(xs))
	at := func(n, y, xx, ci int) int { return ((n*h+y)*w+xx)*c + ci }
	for n := 0; n < b; n++ {
		for y := 0; y < h/2; y++ {
			for xx := 0; xx < w/2; xx++ {
				for ci := 0; ci < c; ci++ {
					best := at(n, 2*y, 2*xx, ci)
					for _, i := range []int{at(n, 2*y, 2*xx+1, ci), at(n, 2*y+1, 2*xx, ci), at(n, 2*y+1, 2*xx+1, ci)} {
						if xs[i] > xs[best] {
							best = i
						}
					}
					o := ((n*(h/2)+y)*(w/2)+xx)*c + ci
					wantOut[o] = float64(xs[best])
					wantGrad[best] = float64(rs[o])
				}
			}
		}
	}
	assertClose(t, "maxpool forward", flat(outs[0]), wantOut, 0)
	assertClose(t, "maxpool gradient", flat(outs[1]), wantGrad, 0)

	// The standard op agrees in the forward direction (it has no gradient on
	// the Go backend).
	std := MustNewExec(be, func(x *Node) *Node { return MaxPool2(x, Standard) })
	defer std.Finalize()
	assertClose(t, "standard maxpool forward", flat(std.MustCall(x)[0]), wantOut, 0)
}

func TestForBackend(t *testing.T) {
	for name, want := range map[string]Impl{"go": Im2Col, "Go Backend": Im2Col, "xla": Standard, "xla:cuda": Standard, "stablehlo:cuda": Standard, "hlo": Standard} {
		if got := ForBackend(name); got != want {
			t.Errorf("ForBackend(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestConvBlockParity checks the transposed-orientation block against the
// plain composition conv + bias + activation + pooling (forward and all
// three gradients) and against GoMLX's standard ops (forward).
func TestConvBlockParity(t *testing.T) {
	be := backendtest.Go(t)
	for _, tc := range []struct {
		b, h, w, c, k, cout int
		pool                bool
		act                 Activation
	}{
		{2, 8, 6, 3, 3, 4, true, ReLU},
		{3, 4, 4, 5, 3, 2, false, ReLU},
		{1, 6, 6, 2, 5, 3, true, None},
		{2, 4, 4, 3, 1, 2, false, LeakyReLU},
		{2, 4, 6, 3, 3, 3, true, Swish},
		{1, 4, 4, 2, 3, 3, true, LeakyReLU},
	} {
		r := rand.New(rand.NewPCG(9, uint64(tc.h*10+tc.k)))
		xs := randSlice(r, tc.b*tc.h*tc.w*tc.c)
		ks := randSlice(r, tc.k*tc.k*tc.c*tc.cout)
		bs := randSlice(r, tc.cout)
		oh, ow := tc.h, tc.w
		if tc.pool {
			oh, ow = oh/2, ow/2
		}
		rs := randSlice(r, tc.b*oh*ow*tc.cout)
		args := []any{
			tensors.FromFlatDataAndDimensions(xs, tc.b, tc.h, tc.w, tc.c),
			tensors.FromFlatDataAndDimensions(ks, tc.k, tc.k, tc.c, tc.cout),
			tensors.FromFlatDataAndDimensions(bs, tc.cout),
			tensors.FromFlatDataAndDimensions(rs, tc.b, oh, ow, tc.cout),
		}
		run := func(block func(x, k, b *Node) *Node, grads bool) [][]float32 {
			exec := MustNewExec(be, func(x, k, b, r *Node) []*Node {
				out := block(x, k, b)
				if !grads {
					return []*Node{out}
				}
				return append([]*Node{out}, Gradient(ReduceAllSum(Mul(out, r)), x, k, b)...)
			})
			defer exec.Finalize()
			var res [][]float32
			for _, o := range exec.MustCall(args...) {
				res = append(res, flat(o))
			}
			return res
		}
		block := run(func(x, k, b *Node) *Node { return ConvBlock(x, k, b, tc.act, tc.pool, Im2Col) }, true)
		plain := run(func(x, k, b *Node) *Node {
			y := tc.act.Apply(Add(Conv2D(x, k, Im2Col), Reshape(b, 1, 1, 1, tc.cout)))
			if tc.pool {
				y = MaxPool2(y, Im2Col)
			}
			return y
		}, true)
		std := run(func(x, k, b *Node) *Node { return ConvBlock(x, k, b, tc.act, tc.pool, Standard) }, false)
		for i, name := range []string{"forward", "dL/dx", "dL/dkernel", "dL/dbias"} {
			assertClose(t, "block "+name, block[i], to64(plain[i]), 1e-5)
		}
		assertClose(t, "standard block forward", block[0], to64(std[0]), 1e-5)
	}
}

// TestActivations checks values and gradients against the definitions
// (GoMLX's own ReLU/LeakyReLU forms differ only in the slope constant and
// in the gradient at exactly 0).
func TestActivations(t *testing.T) {
	be := backendtest.Go(t)
	xs := []float32{-3, -0.5, 0, 0.25, 2}
	for _, tc := range []struct {
		act        Activation
		f, df      func(x float64) float64
		nonDecr    bool
		parseNames []string
	}{
		{ReLU, func(x float64) float64 { return math.Max(x, 0) }, func(x float64) float64 {
			if x > 0 {
				return 1
			}
			return 0
		}, true, []string{"relu"}},
		{LeakyReLU, func(x float64) float64 {
			if x > 0 {
				return x
			}
			return LeakySlope * x
		}, func(x float64) float64 {
			if x > 0 {
				return 1
			}
			return LeakySlope
		}, true, []string{"leaky_relu", "LEAKY_RELU"}},
		{Swish, func(x float64) float64 { return x / (1 + math.Exp(-x)) }, func(x float64) float64 {
			s := 1 / (1 + math.Exp(-x))
			return s + x*s*(1-s)
		}, false, []string{"swish", "silu"}},
		{None, func(x float64) float64 { return x }, func(float64) float64 { return 1 }, true, []string{"none"}},
	} {
		exec := MustNewExec(be, func(x *Node) []*Node {
			y := tc.act.Apply(x)
			return []*Node{y, Gradient(ReduceAllSum(y), x)[0]}
		})
		outs := exec.MustCall(tensors.FromFlatDataAndDimensions(xs, len(xs)))
		exec.Finalize()
		want, wantD := make([]float64, len(xs)), make([]float64, len(xs))
		for i, x := range xs {
			want[i], wantD[i] = tc.f(float64(x)), tc.df(float64(x))
		}
		assertClose(t, tc.act.String(), flat(outs[0]), want, 1e-6)
		assertClose(t, tc.act.String()+" gradient", flat(outs[1]), wantD, 1e-6)
		if tc.act.NonDecreasing() != tc.nonDecr {
			t.Errorf("%v.NonDecreasing() = %v", tc.act, !tc.nonDecr)
		}
		for _, n := range tc.parseNames {
			if a, err := ParseActivation(n); err != nil || a != tc.act {
				t.Errorf("ParseActivation(%q) = %v, %v", n, a, err)
			}
		}
	}
	if _, err := ParseActivation("tanh"); err == nil {
		t.Error("ParseActivation(tanh) succeeded")
	}
}
