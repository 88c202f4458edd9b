package pb2

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
)

func approx(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// The posterior against closed forms: one observation, and two
// observations (2×2 inverse written out).
func TestGPClosedForm(t *testing.T) {
	k := Kernel{Var: 1.7, Length: 0.3, Eps: 0.2, Noise: 0.05}
	x1, t1, y1 := []float64{0.2, 0.4}, 1.0, 0.8
	x2, t2, y2 := []float64{0.7, 0.1}, 3.0, -0.5
	xs, ts := []float64{0.5, 0.5}, 2.0

	kk := func(a []float64, ta float64, b []float64, tb float64) float64 {
		d := 0.0
		for i := range a {
			d += (a[i] - b[i]) * (a[i] - b[i])
		}
		return k.Var * math.Exp(-d/k.Length) * math.Pow(1-k.Eps, math.Abs(ta-tb)/2)
	}
	t.Run("one point", func(t *testing.T) {
		g, err := NewGP(k, [][]float64{x1}, []float64{t1}, []float64{y1})
		if err != nil {
			t.Fatal(err)
		}
		ks := kk(xs, ts, x1, t1)
		wantMu := ks / (k.Var + k.Noise) * y1
		wantVar := k.Var - ks*ks/(k.Var+k.Noise)
		mu, v := g.Predict(xs, ts)
		if !approx(mu, wantMu, 1e-12) || !approx(v, wantVar, 1e-12) {
			t.Fatalf("got (%v, %v), want (%v, %v)", mu, v, wantMu, wantVar)
		}
		wantLL := -0.5*y1*y1/(k.Var+k.Noise) - 0.5*math.Log(k.Var+k.Noise) - 0.5*math.Log(2*math.Pi)
		if !approx(g.LogLikelihood(), wantLL, 1e-12) {
			t.Fatalf("log likelihood %v, want %v", g.LogLikelihood(), wantLL)
		}
	})
	t.Run("two points", func(t *testing.T) {
		g, err := NewGP(k, [][]float64{x1, x2}, []float64{t1, t2}, []float64{y1, y2})
		if err != nil {
			t.Fatal(err)
		}
		a, b, d := k.Var+k.Noise, kk(x1, t1, x2, t2), k.Var+k.Noise
		det := a*d - b*b
		inv := [2][2]float64{{d / det, -b / det}, {-b / det, a / det}}
		ks := [2]float64{kk(xs, ts, x1, t1), kk(xs, ts, x2, t2)}
		y := [2]float64{y1, y2}
		var wantMu, quad, yKy float64
		for i := range 2 {
			for j := range 2 {
				wantMu += ks[i] * inv[i][j] * y[j]
				quad += ks[i] * inv[i][j] * ks[j]
				yKy += y[i] * inv[i][j] * y[j]
			}
		}
		mu, v := g.Predict(xs, ts)
		if !approx(mu, wantMu, 1e-12) || !approx(v, k.Var-quad, 1e-12) {
			t.Fatalf("got (%v, %v), want (%v, %v)", mu, v, wantMu, k.Var-quad)
		}
		wantLL := -0.5*yKy - 0.5*math.Log(det) - math.Log(2*math.Pi)
		if !approx(g.LogLikelihood(), wantLL, 1e-12) {
			t.Fatalf("log likelihood %v, want %v", g.LogLikelihood(), wantLL)
		}
	})
	t.Run("no data is the prior", func(t *testing.T) {
		g, _ := NewGP(k, nil, nil, nil)
		if mu, v := g.Predict(xs, ts); mu != 0 || v != k.Var {
			t.Fatalf("prior (%v, %v)", mu, v)
		}
	})
	t.Run("hallucination keeps variance, not mean", func(t *testing.T) {
		// Conditioning on an input with any value gives the same variance.
		g1, _ := NewGP(k, [][]float64{x1, x2}, []float64{t1, t2}, []float64{y1, y2})
		g2, _ := NewGP(k, [][]float64{x1, x2}, []float64{t1, t2}, nil)
		_, v1 := g1.Predict(xs, ts)
		_, v2 := g2.Predict(xs, ts)
		if !approx(v1, v2, 1e-12) {
			t.Fatalf("variance depends on y: %v vs %v", v1, v2)
		}
	})
}

// The analytic gradient of the negative log likelihood matches finite
// differences.
func TestLikelihoodGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 12
	x := make([][]float64, n)
	ts := make([]float64, n)
	y := make([]float64, n)
	for i := range n {
		x[i] = []float64{r.Float64(), r.Float64()}
		ts[i] = float64(i / 3)
		y[i] = math.Sin(4*x[i][0]) + 0.1*r.NormFloat64()
	}
	z := []float64{0.3, -0.4, 0.2, -1}
	f := func(z []float64) float64 {
		k, _ := kernelOf(z)
		v, _, _ := negLogLik(k, pairsOf(x, ts), y)
		return v
	}
	want := fd.Gradient(nil, f, z, &fd.Settings{Formula: fd.Central, Step: 1e-5})
	k, dk := kernelOf(z)
	_, g, err := negLogLik(k, pairsOf(x, ts), y)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if !approx(g[i]*dk[i], want[i], 1e-5) {
			t.Fatalf("d/dz%d = %v, finite differences %v", i, g[i]*dk[i], want[i])
		}
	}
}

// Fitting improves the likelihood over the starting kernel and recovers a
// short length scale for a wiggly function and a long one for a flat one.
func TestFitKernel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	mk := func(f func(float64) float64) ([][]float64, []float64, []float64) {
		var x [][]float64
		var ts, y []float64
		for range 30 {
			u := r.Float64()
			x = append(x, []float64{u})
			ts = append(ts, 0)
			y = append(y, f(u)+0.01*r.NormFloat64())
		}
		return x, ts, y
	}
	xw, tw, yw := mk(func(u float64) float64 { return math.Sin(12 * u) })
	kw, err := FitKernel(xw, tw, yw)
	if err != nil {
		t.Fatal(err)
	}
	xf, tf, yf := mk(func(u float64) float64 { return u })
	kf, err := FitKernel(xf, tf, yf)
	if err != nil {
		t.Fatal(err)
	}
	g0, _ := NewGP(DefaultKernel, xw, tw, yw)
	g1, _ := NewGP(kw, xw, tw, yw)
	if g1.LogLikelihood() <= g0.LogLikelihood() {
		t.Fatalf("fit did not improve: %v ≤ %v", g1.LogLikelihood(), g0.LogLikelihood())
	}
	if !(kw.Length < kf.Length) {
		t.Fatalf("length scales: wiggly %v, flat %v", kw.Length, kf.Length)
	}
	t.Logf("wiggly %+v; flat %+v", kw, kf)
}

// UCB on a 1-D synthetic function: the optimizer finds the maximum of the
// acquisition found by a dense grid, and with enough data near the
// function's maximum the chosen point is close to the true argmax.
func TestUCBChoice1D(t *testing.T) {
	f := func(u float64) float64 { return -math.Pow(u-0.63, 2) * 8 }
	r := rand.New(rand.NewPCG(5, 6))
	var x [][]float64
	var ts, y []float64
	for i := range 25 {
		u := float64(i) / 24
		x = append(x, []float64{u})
		ts = append(ts, 0)
		y = append(y, f(u)+0.01*r.NormFloat64())
	}
	k, err := FitKernel(x, ts, y)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := NewGP(k, x, ts, y)
	for _, beta := range []float64{0, 0.5, 4} {
		acq := func(h []float64) float64 {
			mu, v := g.Predict(h, 0)
			return mu + math.Sqrt(beta*v)
		}
		grid, gridV := 0.0, math.Inf(-1)
		for i := range 10001 {
			u := float64(i) / 10000
			if v := acq([]float64{u}); v > gridV {
				grid, gridV = u, v
			}
		}
		h := maximizeUCB(acq, 1, []float64{0.1}, 16, 3, rand.New(rand.NewPCG(7, 8)))
		if acq(h) < gridV-1e-6 || math.Abs(h[0]-grid) > 1e-3 {
			t.Fatalf("β=%v: chose %v (UCB %v), grid %v (UCB %v)", beta, h[0], acq(h), grid, gridV)
		}
		if beta == 0 && math.Abs(h[0]-0.63) > 0.02 {
			t.Fatalf("posterior mean maximized at %v, true argmax 0.63", h[0])
		}
	}
}
