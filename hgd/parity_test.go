package hgd_test

import (
	"testing"

	"github.com/gomlx/compute/dtypes"

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hgd/ref"
)

type parityCase struct {
	name  string
	pr    problem
	cfg   ref.Config
	steps int
	dtype dtypes.DType
	tol   float64
}

func parityCases() []parityCase {
	q, s := quadratic(), softmaxRegression()
	const f64 = dtypes.Float64
	return []parityCase{
		// The two parity problems for HGD, ≥ 50 steps, in float64.
		{"hgd/quadratic", q, def(ref.Config{Kind: ref.HGD, Alpha0: 0.02, Gamma0: 0.5, Beta: 1e-4, Eta: 1e-3, AlphaMax: 0.15}), 60, f64, 1e-5},
		{"hgd/softmax", s, def(ref.Config{Kind: ref.HGD, Alpha0: 0.1, Gamma0: 0.5, Beta: 0.1, Eta: 0.1}), 60, f64, 1e-5},
		{"hgd-normalized/quadratic", q, def(ref.Config{Kind: ref.HGD, Alpha0: 0.02, Gamma0: 0.5, Beta: 0.02, Eta: 0.02, AlphaMax: 0.15, Normalized: true}), 60, f64, 1e-5},
		{"hgd-wd/softmax", s, def(ref.Config{Kind: ref.HGD, Alpha0: 0.1, Gamma0: 0.5, Beta: 0.1, Eta: 0.1, WeightDecay: 1e-2}), 60, f64, 1e-5},
		// The horizon options: averaged hypergradients and decayed rates.
		{"hgd-ema-decay/softmax", s, def(ref.Config{Kind: ref.HGD, Alpha0: 0.1, Gamma0: 0.5, Beta: 0.1, Eta: 0.1, HyperEMA: 0.9, HyperDecay: 20}), 60, f64, 1e-5},
		{"hgd-normalized-ema/quadratic", q, def(ref.Config{Kind: ref.HGD, Alpha0: 0.02, Gamma0: 0.5, Beta: 0.02, Eta: 0.02, AlphaMax: 0.15, Normalized: true, HyperEMA: 0.5}), 60, f64, 1e-5},
		{"hgd-floor-decay/quadratic", q, def(ref.Config{Kind: ref.HGD, Alpha0: 0.02, Gamma0: 0.5, Beta: 1e-3, Eta: 1e-3, AlphaMin: 0.01, AlphaMax: 0.15, HyperDecay: 10}), 60, f64, 1e-5},
		{"sgd-hd-ema/softmax", s, def(ref.Config{Kind: ref.SGDHD, Alpha0: 0.1, Beta: 0.1, HyperEMA: 0.8}), 20, f64, 1e-5},
		// The other kinds, fewer steps.
		{"sgd/softmax", s, def(ref.Config{Kind: ref.SGD, Alpha0: 0.1}), 20, f64, 1e-5},
		{"momentum/quadratic", q, def(ref.Config{Kind: ref.Momentum, Alpha0: 0.02, Gamma0: 0.8}), 20, f64, 1e-5},
		{"sgd-hd/softmax", s, def(ref.Config{Kind: ref.SGDHD, Alpha0: 0.1, Beta: 0.1}), 20, f64, 1e-5},
		{"sgdn-hd/softmax", s, def(ref.Config{Kind: ref.SGDNHD, Alpha0: 0.05, Gamma0: 0.9, Beta: 0.05}), 20, f64, 1e-5},
		{"sgdn-hd-normalized/quadratic", q, def(ref.Config{Kind: ref.SGDNHD, Alpha0: 0.01, Gamma0: 0.5, Beta: 0.05, AlphaMax: 0.1, Normalized: true}), 20, f64, 1e-5},
		{"adam-hd/softmax", s, def(ref.Config{Kind: ref.AdamHD, Alpha0: 0.01, Beta: 1e-3}), 20, f64, 1e-5},
		{"adam-hd-normalized/quadratic", q, def(ref.Config{Kind: ref.AdamHD, Alpha0: 0.01, Beta: 0.05, Normalized: true}), 20, f64, 1e-5},
		{"adam/quadratic", q, def(ref.Config{Kind: ref.Adam, Alpha0: 0.01, WeightDecay: 1e-3}), 20, f64, 1e-5},
		// float32 GoMLX against the float64 reference: rounding (≈6e-8 per
		// operation) accumulates over the trajectory and is amplified by the
		// hypergradient feedback, so the tolerance is looser.
		{"hgd-float32/quadratic", q, def(ref.Config{Kind: ref.HGD, Alpha0: 0.02, Gamma0: 0.5, Beta: 1e-4, Eta: 1e-3, AlphaMax: 0.15}), 60, dtypes.Float32, 1e-5},
		{"hgd-float32/softmax", s, def(ref.Config{Kind: ref.HGD, Alpha0: 0.1, Gamma0: 0.5, Beta: 0.1, Eta: 0.1}), 60, dtypes.Float32, 1e-5},
	}
}

// TestParity runs the GoMLX optimizer (through train.Trainer) and ref.Update
// side by side and compares parameters, α and γ after every step.
func TestParity(t *testing.T) {
	b := backendtest.Go(t)
	for _, tc := range parityCases() {
		t.Run(tc.name, func(t *testing.T) {
			ps, sts := runRef(t, tc.pr, tc.cfg, tc.steps)
			r := newGoMLXRun(t, b, tc.pr, tc.cfg, tc.dtype)
			var worst float64
			for i := range tc.steps {
				r.step(t)
				got := r.params(t)
				e := relErr(got, ps[i])
				ea := relScalar(r.scalar(t, hgd.VarAlpha), sts[i].Alpha)
				eg := 0.0
				if tc.cfg.Kind.HasGamma() {
					eg = relScalar(r.scalar(t, hgd.VarGamma), sts[i].Gamma)
				}
				worst = max(worst, e, ea, eg)
				if e > tc.tol || ea > tc.tol || eg > tc.tol {
					t.Fatalf("step %d: relative error θ %.3g, α %.3g (got %v want %v), γ %.3g (got %v want %v) > %g",
						i+1, e, ea, r.scalar(t, hgd.VarAlpha), sts[i].Alpha, eg,
						func() float64 {
							if tc.cfg.Kind.HasGamma() {
								return r.scalar(t, hgd.VarGamma)
							}
							return 0
						}(), sts[i].Gamma, tc.tol)
				}
			}
			if got, want := r.scalar(t, hgd.VarStep), float64(sts[tc.steps-1].Step); got != want {
				t.Errorf("step counter %v, want %v", got, want)
			}
			last := sts[tc.steps-1]
			c := tc.cfg
			if c.Kind.HasAlphaHypergradient() && last.Alpha == c.Alpha0 {
				t.Errorf("α never moved from %v: the test does not exercise the hypergradient", c.Alpha0)
			}
			if c.Kind == ref.HGD && last.Gamma == c.Gamma0 {
				t.Errorf("γ never moved from %v", c.Gamma0)
			}
			t.Logf("%d steps: worst relative error %.3g; final α %.5g γ %.5g loss %.5g → %.5g",
				tc.steps, worst, last.Alpha, last.Gamma, tc.pr.loss(tc.pr.init), tc.pr.loss(ps[tc.steps-1]))
		})
	}
}
