package ref_test

import (
	"math"
	"slices"
	"testing"

	"github.com/hgdtune/hgdtune/hgd/internal/reftest"

	"github.com/hgdtune/hgdtune/hgd/ref"
)

type fn struct {
	name string
	init [][]float64
	f    func(p [][]float64) float64
	grad func(p [][]float64) [][]float64
}

func rosenbrock() fn {
	return fn{
		name: "rosenbrock",
		init: [][]float64{{-1.2, 1}},
		f: func(p [][]float64) float64 {
			x, y := p[0][0], p[0][1]
			return (1-x)*(1-x) + 100*(y-x*x)*(y-x*x)
		},
		grad: func(p [][]float64) [][]float64 {
			x, y := p[0][0], p[0][1]
			return [][]float64{{-2*(1-x) - 400*x*(y-x*x), 200 * (y - x*x)}}
		},
	}
}

// quadratic: ½ Σ λ θ², λ in [0.01, 1], two tensors.
func quadratic() fn {
	lam := [][]float64{{0.01, 0.05, 0.2}, {0.5, 1}}
	return fn{
		name: "quadratic",
		init: [][]float64{{1, -2, 3}, {0.5, -1}},
		f: func(p [][]float64) float64 {
			var s float64
			for i := range p {
				for j, x := range p[i] {
					s += 0.5 * lam[i][j] * x * x
				}
			}
			return s
		},
		grad: func(p [][]float64) [][]float64 {
			out := make([][]float64, len(p))
			for i := range p {
				for j, x := range p[i] {
					out[i] = append(out[i], lam[i][j]*x)
				}
			}
			return out
		},
	}
}

// logCosh is a smooth non-quadratic function: Σ log cosh(θ_i − c_i)·w_i.
func logCosh() fn {
	c := []float64{1, -0.5, 2, 0.3}
	w := []float64{1, 3, 0.5, 2}
	return fn{
		name: "logcosh",
		init: [][]float64{{0, 0, 0, 0}},
		f: func(p [][]float64) float64 {
			var s float64
			for i, x := range p[0] {
				s += w[i] * math.Log(math.Cosh(x-c[i]))
			}
			return s
		},
		grad: func(p [][]float64) [][]float64 {
			out := make([]float64, len(p[0]))
			for i, x := range p[0] {
				out[i] = w[i] * math.Tanh(x-c[i])
			}
			return [][]float64{out}
		},
	}
}

func run(t *testing.T, pr fn, cfg ref.Config, steps int) ([][][]float64, []ref.State) {
	t.Helper()
	p := pr.init
	st, err := ref.Init(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	ps, sts := [][][]float64{p}, []ref.State{st}
	for range steps {
		p, st, err = ref.Update(cfg, st, p, pr.grad(p))
		if err != nil {
			t.Fatal(err)
		}
		ps, sts = append(ps, p), append(sts, st)
	}
	return ps, sts
}

func axpy(a float64, x, y [][]float64) [][]float64 { // a·x + y
	out := make([][]float64, len(y))
	for i := range y {
		out[i] = make([]float64, len(y[i]))
		for j := range y[i] {
			out[i][j] = a*x[i][j] + y[i][j]
		}
	}
	return out
}

// TestHypergradientFiniteDifference checks that the hypergradients HGD uses
// at step t are the derivatives of f(θ_{t−1}) with respect to that step's
// α_{t−1} and γ_{t−1}: θ_{t−1}(α, γ) = θ_{t−2} − α·g_{t−2} + γ·Δ_{t−2}.
func TestHypergradientFiniteDifference(t *testing.T) {
	for _, tc := range []struct {
		pr  fn
		cfg ref.Config
	}{
		{rosenbrock(), def(ref.Config{Alpha0: 2e-4, Gamma0: 0.5, Beta: 1e-8, Eta: 1e-7})},
		{quadratic(), def(ref.Config{Alpha0: 0.5, Gamma0: 0.5, Beta: 0.1, Eta: 0.1})},
		{logCosh(), def(ref.Config{Alpha0: 0.1, Gamma0: 0.7, Beta: 0.01, Eta: 0.01})},
	} {
		t.Run(tc.pr.name, func(t *testing.T) {
			ps, sts := run(t, tc.pr, tc.cfg, 12)
			checked := 0
			for step := 3; step <= 12; step++ {
				// ps[k], sts[k]: after k steps. Step t uses θ_{t−1} = ps[t−1].
				thetaT2 := ps[step-2]
				gT2 := tc.pr.grad(thetaT2)
				deltaT2 := sts[step-2].Delta1 // Δ_{t−2} = θ_{t−2} − θ_{t−3}
				a, gm := sts[step-1].Alpha, sts[step-1].Gamma
				theta := func(a, gm float64) [][]float64 { return axpy(gm, deltaT2, axpy(-a, gT2, thetaT2)) }
				// θ_{t−1} is reproduced (to rounding) by the formula.
				if e := maxAbsDiff(theta(a, gm), ps[step-1]); e > 1e-12 {
					t.Fatalf("step %d: formula for θ_{t−1} off by %g", step, e)
				}
				epsA, epsG := 1e-5*a, 1e-5*max(gm, 1e-3)
				dA := (tc.pr.f(theta(a+epsA, gm)) - tc.pr.f(theta(a-epsA, gm))) / (2 * epsA)
				dG := (tc.pr.f(theta(a, gm+epsG)) - tc.pr.f(theta(a, gm-epsG))) / (2 * epsG)
				hA, hG := sts[step].HAlpha, sts[step].HGamma
				if e := math.Abs(-hA-dA) / math.Max(math.Abs(dA), 1e-12); e > 1e-4 {
					t.Errorf("step %d: ∂f/∂α: −h_α = %v, finite difference %v (rel %.2g)", step, -hA, dA, e)
				}
				if e := math.Abs(hG-dG) / math.Max(math.Abs(dG), 1e-12); e > 1e-4 {
					t.Errorf("step %d: ∂f/∂γ: h_γ = %v, finite difference %v (rel %.2g)", step, hG, dG, e)
				}
				if hA == 0 || hG == 0 {
					t.Errorf("step %d: zero hypergradient (h_α %v, h_γ %v) checks nothing", step, hA, hG)
				}
				checked++
			}
			if checked == 0 {
				t.Fatal("nothing checked")
			}
		})
	}
}

func maxAbsDiff(a, b [][]float64) float64 {
	var m float64
	for i := range a {
		for j := range a[i] {
			m = max(m, math.Abs(a[i][j]-b[i][j]))
		}
	}
	return m
}

func equalParams(a, b [][]float64) bool {
	return slices.EqualFunc(a, b, func(x, y []float64) bool { return slices.Equal(x, y) })
}

// TestReductions: β = η = 0 is exactly SGD+momentum; γ0 = 0, η = 0 is exactly SGD-HD.
func TestReductions(t *testing.T) {
	for _, pr := range []fn{quadratic(), logCosh()} {
		for _, tc := range []struct {
			name      string
			hgd, base ref.Config
		}{
			{"momentum", ref.Config{Kind: ref.HGD, Alpha0: 0.1, Gamma0: 0.8, Beta: 0, Eta: 0, AlphaMax: ref.DefaultAlphaMax,
				GammaMax: ref.DefaultGammaMax, WeightDecay: 1e-3},
				def(ref.Config{Kind: ref.Momentum, Alpha0: 0.1, Gamma0: 0.8, WeightDecay: 1e-3})},
			{"sgd-hd", ref.Config{Kind: ref.HGD, Alpha0: 0.1, Gamma0: 0, Beta: 0.05, Eta: 0, AlphaMax: ref.DefaultAlphaMax,
				GammaMax: ref.DefaultGammaMax, WeightDecay: 1e-3},
				def(ref.Config{Kind: ref.SGDHD, Alpha0: 0.1, Beta: 0.05, WeightDecay: 1e-3})},
		} {
			t.Run(pr.name+"/"+tc.name, func(t *testing.T) {
				p1, s1 := run(t, pr, tc.hgd, 60)
				p2, s2 := run(t, pr, tc.base, 60)
				for k := range p1 {
					if !equalParams(p1[k], p2[k]) || s1[k].Alpha != s2[k].Alpha {
						t.Fatalf("step %d: HGD %v α %v, %s %v α %v", k, p1[k], s1[k].Alpha, tc.name, p2[k], s2[k].Alpha)
					}
				}
				if tc.name == "sgd-hd" && s2[60].Alpha == 0.1 {
					t.Error("α never moved")
				}
			})
		}
	}
}

// TestFirstSteps: missing history is zero, so α first changes at step 2 and
// γ at step 3.
func TestFirstSteps(t *testing.T) {
	for _, pr := range []fn{quadratic(), rosenbrock(), logCosh()} {
		t.Run(pr.name, func(t *testing.T) {
			cfg := def(ref.Config{Alpha0: 1e-3, Gamma0: 0.5, Beta: 1e-6, Eta: 1e-6})
			_, sts := run(t, pr, cfg, 3)
			if sts[1].Alpha != 1e-3 || sts[1].Gamma != 0.5 {
				t.Errorf("after step 1: α %v γ %v, want unchanged", sts[1].Alpha, sts[1].Gamma)
			}
			if sts[2].Alpha == 1e-3 || sts[2].Gamma != 0.5 {
				t.Errorf("after step 2: α %v (want changed), γ %v (want unchanged)", sts[2].Alpha, sts[2].Gamma)
			}
			if sts[3].Gamma == 0.5 {
				t.Errorf("after step 3: γ %v unchanged", sts[3].Gamma)
			}
		})
	}
}

// TestSafeguards: with β and η a million times too large, α and γ stay in
// their bounds and θ stays finite.
func TestSafeguards(t *testing.T) {
	for _, normalized := range []bool{false, true} {
		for _, pr := range []fn{quadratic(), logCosh()} {
			cfg := def(ref.Config{Beta: 1e6 * ref.DefaultBeta, Eta: 1e6 * ref.DefaultEta, Normalized: normalized})
			c := cfg
			ps, sts := run(t, pr, cfg, 200)
			for k := range ps {
				if a := sts[k].Alpha; a < c.AlphaMin || a > c.AlphaMax {
					t.Fatalf("normalized=%v %s step %d: α = %v out of [%v, %v]", normalized, pr.name, k, a, c.AlphaMin, c.AlphaMax)
				}
				if g := sts[k].Gamma; g < 0 || g > c.GammaMax {
					t.Fatalf("normalized=%v %s step %d: γ = %v out of [0, %v]", normalized, pr.name, k, g, c.GammaMax)
				}
				for _, x := range ps[k] {
					for _, v := range x {
						if math.IsNaN(v) || math.IsInf(v, 0) {
							t.Fatalf("normalized=%v %s step %d: θ not finite: %v", normalized, pr.name, k, ps[k])
						}
					}
				}
			}
		}
	}
}

// TestNonFiniteSkipped: a NaN or Inf gradient is skipped and counted, for every kind.
func TestNonFiniteSkipped(t *testing.T) {
	pr := quadratic()
	for _, k := range ref.Kinds() {
		for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			cfg := def(ref.Config{Kind: k, Alpha0: 0.1})
			p := pr.init
			st, err := ref.Init(cfg, p)
			if err != nil {
				t.Fatal(err)
			}
			for step := 1; step <= 6; step++ {
				g := pr.grad(p)
				if step == 4 {
					g[1][0] = bad
				}
				np, ns, err := ref.Update(cfg, st, p, g)
				if err != nil {
					t.Fatal(err)
				}
				if step == 4 {
					if !equalParams(np, p) || ns.Alpha != st.Alpha || ns.Gamma != st.Gamma ||
						ns.Step != st.Step || ns.Skipped != 1 {
						t.Fatalf("%v, gradient %v: step not skipped: θ %v → %v, α %v → %v, step %d → %d, skipped %d",
							k, bad, p, np, st.Alpha, ns.Alpha, st.Step, ns.Step, ns.Skipped)
					}
				}
				p, st = np, ns
			}
			if st.Step != 5 || st.Skipped != 1 {
				t.Errorf("%v: Step %d Skipped %d, want 5 and 1", k, st.Step, st.Skipped)
			}
			if math.IsNaN(st.Alpha) || math.IsNaN(st.Gamma) || math.IsNaN(pr.f(p)) {
				t.Errorf("%v: non-finite state after skip: α %v γ %v f %v", k, st.Alpha, st.Gamma, pr.f(p))
			}
		}
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ref.Config
		ok   bool
	}{
		{"zero value", ref.Config{}, true},
		{"defaults", ref.Defaults(ref.HGD), true},
		{"adam-hd", ref.Defaults(ref.AdamHD), true},
		{"gamma max 1", ref.Config{GammaMax: 1}, false},
		{"alpha bounds", ref.Config{AlphaMin: 0.5, AlphaMax: 0.1}, false},
		{"gamma0 above max", def(ref.Config{Gamma0: 0.995}), false},
		{"gamma0 above max, unbounded", def(ref.Config{Gamma0: 0.995, Unbounded: true}), true},
		{"gamma0 above max, no momentum", def(ref.Config{Kind: ref.SGD, Gamma0: 0.995}), true},
		{"negative weight decay", def(ref.Config{WeightDecay: -1}), false},
		{"negative beta", def(ref.Config{Beta: -1}), false},
		{"negative alpha0", def(ref.Config{Alpha0: -1e-3}), false},
		{"nan beta", def(ref.Config{Beta: math.NaN()}), false},
		{"bad kind", ref.Config{Kind: 42}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	d := ref.Defaults(ref.HGD)
	if d.Kind != ref.HGD || d.Alpha0 != ref.DefaultAlpha0 || d.Gamma0 != ref.DefaultGamma0 ||
		d.Beta != ref.DefaultBeta || d.Eta != ref.DefaultEta || d.AlphaMax != ref.DefaultAlphaMax || d.GammaMax != ref.DefaultGammaMax ||
		d.AdamBeta1 != ref.DefaultAdamBeta1 || d.AdamBeta2 != ref.DefaultAdamBeta2 || d.AdamEps != ref.DefaultAdamEps ||
		d.AlphaMin != 0 || d.WeightDecay != 0 || d.Unbounded || d.Normalized {
		t.Errorf("defaults: %+v", d)
	}
	for _, k := range ref.Kinds() {
		d := ref.Defaults(k)
		if err := d.Validate(); err != nil {
			t.Errorf("Defaults(%v): %v", k, err)
		}
		if (d.Beta != 0) != k.HasAlphaHypergradient() || (d.Eta != 0) != (k == ref.HGD) || (d.Gamma0 != 0) != k.HasGamma() {
			t.Errorf("Defaults(%v) = %+v: β, η or γ0 set for a kind that ignores it", k, d)
		}
		if a := d.Alpha0; (a == ref.DefaultAdamAlpha0) != k.IsAdam() {
			t.Errorf("Defaults(%v).Alpha0 = %v", k, a)
		}
	}
	// Zero means zero: γ0 = 0 is no momentum, β = 0 a fixed α.
	z := ref.Defaults(ref.HGD)
	z.Gamma0, z.Beta = 0, 0
	if st, err := ref.Init(z, [][]float64{{1}}); err != nil || st.Gamma != 0 || st.Alpha != ref.DefaultAlpha0 {
		t.Errorf("Init(γ0 = 0) = %+v, %v", st, err)
	}
	for _, k := range ref.Kinds() {
		got, err := ref.ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	if _, err := ref.ParseKind("nope"); err == nil {
		t.Error("ParseKind(nope) succeeded")
	}
	// Update checks shapes and does not modify its arguments.
	p := [][]float64{{1, 2}}
	g := [][]float64{{0.5, 0.5}}
	st, _ := ref.Init(ref.Defaults(ref.HGD), p)
	if _, _, err := ref.Update(ref.Defaults(ref.HGD), st, p, [][]float64{{1}}); err == nil {
		t.Error("shape mismatch accepted")
	}
	np, _, err := ref.Update(ref.Defaults(ref.HGD), st, p, g)
	if err != nil || p[0][0] != 1 || g[0][0] != 0.5 || np[0][0] == 1 {
		t.Errorf("Update modified its arguments or did nothing: %v %v %v %v", p, g, np, err)
	}
}

// def: see reftest.Def.
var def = reftest.Def

func TestSmoothHypergradientAndDecayedRate(t *testing.T) {
	// ρ = 0.9 on h = 2, −1, 3: m = 0.2, 0.08, 0.372; used m/(1 − 0.9ⁿ).
	m := 0.0
	for n, c := range []struct{ h, m, used float64 }{{2, 0.2, 2}, {-1, 0.08, 0.08 / 0.19}, {3, 0.372, 0.372 / 0.271}} {
		var used float64
		m, used = ref.SmoothHypergradient(0.9, m, c.h, n+1)
		if math.Abs(m-c.m) > 1e-15 || math.Abs(used-c.used) > 1e-14 {
			t.Errorf("step %d: m %v used %v, want %v %v", n+1, m, used, c.m, c.used)
		}
	}
	if _, used := ref.SmoothHypergradient(0, 5, 2, 7); used != 2 {
		t.Errorf("ρ = 0 uses %v, want h", used)
	}
	for _, c := range []struct {
		n    int
		want float64
	}{{1, 1e-4}, {101, 0.5e-4}, {301, 0.25e-4}} {
		if got := ref.DecayedRate(1e-4, 100, c.n); math.Abs(got-c.want) > 1e-19 {
			t.Errorf("DecayedRate at step %d = %v, want %v", c.n, got, c.want)
		}
	}
}

// With HyperEMA and HyperDecay, each step moves α and γ by the decayed
// rate times the bias-corrected average of the raw hypergradients the
// state records (Unbounded, so no projection hides a difference); with
// neither, Update is the paper's rule.
func TestHyperEMAAndDecay(t *testing.T) {
	for _, normalized := range []bool{false, true} {
		cfg := ref.Defaults(ref.HGD)
		cfg.Unbounded, cfg.Normalized, cfg.HyperEMA, cfg.HyperDecay = true, normalized, 0.8, 50
		if normalized {
			cfg.Beta, cfg.Eta = 0.01, 0.01
		}
		_, sts := run(t, quadratic(), cfg, 40)
		mA, mG := 0.0, 0.0
		moved := false
		for n := 1; n < len(sts); n++ {
			prev, st := sts[n-1], sts[n]
			var uA, uG float64
			mA, uA = ref.SmoothHypergradient(0.8, mA, st.HAlpha, n)
			mG, uG = ref.SmoothHypergradient(0.8, mG, st.HGamma, n)
			c := cfg
			c.Beta, c.Eta = ref.DecayedRate(cfg.Beta, 50, n), ref.DecayedRate(cfg.Eta, 50, n)
			// The norms the step read: |g|² is the next state's DirSq.
			wantA := ref.NextAlpha(c, prev.Alpha, uA, st.DirSq, prev.DirSq)
			wantG := ref.NextGamma(c, prev.Gamma, uG, st.DirSq, prev.Delta2Sq)
			if st.Alpha != wantA || st.Gamma != wantG || st.MAlpha != mA || st.MGamma != mG {
				t.Fatalf("normalized %v step %d: α %v γ %v m %v %v, want %v %v %v %v",
					normalized, n, st.Alpha, st.Gamma, st.MAlpha, st.MGamma, wantA, wantG, mA, mG)
			}
			moved = moved || st.Alpha != cfg.Alpha0
		}
		if !moved {
			t.Errorf("normalized %v: α never moved", normalized)
		}
	}
}
