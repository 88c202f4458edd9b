package hgd_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hgd/ref"
)

func equalParams(a, b [][]float64) bool {
	return slices.EqualFunc(a, b, func(x, y []float64) bool { return slices.Equal(x, y) })
}

// TestReductionsGoMLX: in the GoMLX optimizer too, β = η = 0 is exactly
// SGD+momentum and γ0 = 0, η = 0 is exactly SGD-HD (bit for bit, float32).
func TestReductionsGoMLX(t *testing.T) {
	b := backendtest.Go(t)
	pr := softmaxRegression()
	for _, tc := range []struct {
		name      string
		hgd, base ref.Config
	}{
		{"momentum", explicit(def(ref.Config{Kind: ref.HGD, Alpha0: 0.1, Gamma0: 0.8}), func(c *ref.Config) { c.Beta, c.Eta = 0, 0 }),
			def(ref.Config{Kind: ref.Momentum, Alpha0: 0.1, Gamma0: 0.8})},
		{"sgd-hd", explicit(def(ref.Config{Kind: ref.HGD, Alpha0: 0.1, Beta: 0.1}), func(c *ref.Config) { c.Gamma0, c.Eta = 0, 0 }),
			def(ref.Config{Kind: ref.SGDHD, Alpha0: 0.1, Beta: 0.1})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r1 := newGoMLXRun(t, b, pr, tc.hgd, dtypes.Float32)
			r2 := newGoMLXRun(t, b, pr, tc.base, dtypes.Float32)
			for i := range 50 {
				r1.step(t)
				r2.step(t)
				if p1, p2 := r1.params(t), r2.params(t); !equalParams(p1, p2) {
					t.Fatalf("step %d: HGD %v, %s %v", i+1, p1, tc.name, p2)
				}
				if a1, a2 := r1.scalar(t, hgd.VarAlpha), r2.scalar(t, hgd.VarAlpha); a1 != a2 {
					t.Fatalf("step %d: α %v vs %v", i+1, a1, a2)
				}
			}
		})
	}
}

// TestFirstStepsGoMLX: α first changes at step 2, γ at step 3.
func TestFirstStepsGoMLX(t *testing.T) {
	b := backendtest.Go(t)
	r := newGoMLXRun(t, b, softmaxRegression(), def(ref.Config{Alpha0: 0.1, Gamma0: 0.5, Beta: 0.1, Eta: 0.1}), dtypes.Float64)
	var alphas, gammas []float64
	for range 3 {
		r.step(t)
		alphas = append(alphas, r.scalar(t, hgd.VarAlpha))
		gammas = append(gammas, r.scalar(t, hgd.VarGamma))
	}
	if alphas[0] != 0.1 || alphas[1] == 0.1 {
		t.Errorf("α after steps 1, 2: %v; want 0.1 then changed", alphas[:2])
	}
	if gammas[0] != 0.5 || gammas[1] != 0.5 || gammas[2] == 0.5 {
		t.Errorf("γ after steps 1..3: %v; want 0.5, 0.5, changed", gammas)
	}
}

// TestSafeguardsGoMLX: β, η a million times too large keep α, γ in bounds
// and θ finite; NaN and Inf gradients are skipped and counted.
func TestSafeguardsGoMLX(t *testing.T) {
	b := backendtest.Go(t)
	pr := softmaxRegression()
	for _, normalized := range []bool{false, true} {
		cfg := def(ref.Config{Beta: 1e6 * ref.DefaultBeta, Eta: 1e6 * ref.DefaultEta, Normalized: normalized})
		c := cfg
		r := newGoMLXRun(t, b, pr, cfg, dtypes.Float32)
		for i := range 100 {
			r.step(t)
			a, g := r.scalar(t, hgd.VarAlpha), r.scalar(t, hgd.VarGamma)
			if a < c.AlphaMin || a > float64(float32(c.AlphaMax)) || g < 0 || g > float64(float32(c.GammaMax)) { // float32 bounds
				t.Fatalf("normalized=%v step %d: α %v γ %v out of bounds", normalized, i+1, a, g)
			}
			for _, x := range r.params(t) {
				for _, v := range x {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("normalized=%v step %d: θ not finite", normalized, i+1)
					}
				}
			}
		}
	}

	for _, kind := range ref.Kinds() {
		t.Run("skip/"+kind.String(), func(t *testing.T) {
			cfg := def(ref.Config{Kind: kind, Alpha0: 0.05, Beta: 0.01, Eta: 0.01})
			r := newGoMLXRun(t, b, pr, cfg, dtypes.Float32)
			for range 3 {
				r.step(t)
			}
			for _, bad := range []float64{math.NaN(), math.Inf(1)} {
				before := r.params(t)
				a, st := r.scalar(t, hgd.VarAlpha), r.scalar(t, hgd.VarStep)
				r.stepScaled(t, bad)
				if !equalParams(r.params(t), before) || r.scalar(t, hgd.VarAlpha) != a || r.scalar(t, hgd.VarStep) != st {
					t.Fatalf("gradient ×%v not skipped", bad)
				}
			}
			if got := r.scalar(t, hgd.VarSkipped); got != 2 {
				t.Errorf("skipped = %v, want 2", got)
			}
			for range 3 {
				r.step(t)
			}
			for _, x := range r.params(t) {
				for _, v := range x {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatal("θ not finite after the skipped steps")
					}
				}
			}
			if r.scalar(t, hgd.VarStep) != 6 {
				t.Errorf("step = %v, want 6", r.scalar(t, hgd.VarStep))
			}
		})
	}
	// The GoMLX skip matches ref's skip (same state afterwards: the steps
	// after it agree), for every kind. β is small enough that α stays inside
	// its bounds, so a wrong direction kept across the skip shows in α.
	for _, kind := range ref.Kinds() {
		cfg := def(ref.Config{Kind: kind, Alpha0: 0.1, Gamma0: 0.5, Beta: 0.01, Eta: 0.1})
		if kind.IsAdam() {
			cfg.Alpha0, cfg.Beta = 0.01, 1e-3
		}
		r := newGoMLXRun(t, b, pr, cfg, dtypes.Float64)
		p := pr.init
		st, _ := ref.Init(cfg, p)
		for i := range 10 {
			g := pr.grad(p)
			scale := 1.0
			if i == 4 {
				scale = math.NaN()
				g[0][0] = math.NaN()
			}
			p, st, _ = ref.Update(cfg, st, p, g)
			r.stepScaled(t, scale)
		}
		if e := relErr(r.params(t), p); e > 1e-12 || st.Skipped != 1 {
			t.Errorf("%v: after a skipped step GoMLX and ref differ: rel %g (ref skipped %d)", kind, e, st.Skipped)
		}
	}
}

// TestStateVariables: all optimizer state lives in non-trainable variables
// under the optimizer's scope.
func TestStateVariables(t *testing.T) {
	b := backendtest.Go(t)
	for _, tc := range []struct {
		kind Kind
		want []string
	}{
		{hgd.HGD, []string{"/hgd/alpha", "/hgd/beta", "/hgd/eta", "/hgd/gamma", "/hgd/h_alpha", "/hgd/h_gamma",
			"/hgd/model/p0_delta1", "/hgd/model/p0_delta2", "/hgd/model/p0_dir",
			"/hgd/model/p1_delta1", "/hgd/model/p1_delta2", "/hgd/model/p1_dir", "/hgd/skipped", "/hgd/step"}},
		{hgd.AdamHD, []string{"/hgd/alpha", "/hgd/beta", "/hgd/h_alpha",
			"/hgd/model/p0_dir", "/hgd/model/p0_m1", "/hgd/model/p0_m2",
			"/hgd/model/p1_dir", "/hgd/model/p1_m1", "/hgd/model/p1_m2", "/hgd/skipped", "/hgd/step"}},
	} {
		r := newGoMLXRun(t, b, quadratic(), def(ref.Config{Kind: tc.kind}), dtypes.Float32)
		r.step(t)
		vars := storeVariables(r.store, "/hgd/")
		if got := sortedKeys(vars); !slices.Equal(got, tc.want) {
			t.Errorf("%v: variables\n%s\nwant\n%s", tc.kind, strings.Join(got, " "), strings.Join(tc.want, " "))
		}
		for p, trainable := range vars {
			if trainable {
				t.Errorf("%s is trainable", p)
			}
		}
		if err := r.opt.Clear(r.store.RootScope()); err != nil {
			t.Fatal(err)
		}
		if n := len(storeVariables(r.store, "/hgd/")); n != 0 {
			t.Errorf("Clear left %d variables", n)
		}
	}
}

type Kind = hgd.Kind

// TestCheckpoint: the state survives a checkpoint save/restore, and training
// continues identically.
func TestCheckpoint(t *testing.T) {
	b := backendtest.Go(t)
	pr := softmaxRegression()
	cfg := def(ref.Config{Alpha0: 0.1, Gamma0: 0.5, Beta: 0.1, Eta: 0.1})
	dir := t.TempDir()

	r1 := newGoMLXRun(t, b, pr, cfg, dtypes.Float32)
	for range 10 {
		r1.step(t)
	}
	h, err := checkpoint.Build(r1.store).Dir(dir).Done()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	alpha10 := r1.scalar(t, hgd.VarAlpha)
	var want [][][]float64
	for range 10 {
		r1.step(t)
		want = append(want, r1.params(t))
	}

	// A fresh store restored from the checkpoint, with different hgd_* params
	// (they must not matter: the state comes from the checkpoint).
	r2 := newGoMLXRun(t, b, pr, def(ref.Config{Alpha0: 0.5, Gamma0: 0.1}), dtypes.Float32)
	if _, err := checkpoint.Load(r2.store).Dir(dir).Done(); err != nil {
		t.Fatal(err)
	}
	if a, err := hgd.Alpha(r2.store); err != nil || a != alpha10 {
		t.Fatalf("restored α = %v (%v), want %v", a, err, alpha10)
	}
	for i := range 10 {
		r2.step(t)
		if got := r2.params(t); !equalParams(got, want[i]) {
			t.Fatalf("step %d after restore: %v, want %v", i+1, got, want[i])
		}
	}
	if a1, a2 := r1.scalar(t, hgd.VarAlpha), r2.scalar(t, hgd.VarAlpha); a1 != a2 {
		t.Errorf("α %v vs %v", a1, a2)
	}
	if g1, g2 := r1.scalar(t, hgd.VarGamma), r2.scalar(t, hgd.VarGamma); g1 != g2 {
		t.Errorf("γ %v vs %v", g1, g2)
	}
}

// TestSet: α, γ, β, η set at run time (as PBT does) are used by the next
// step of the already compiled graph, exactly like the same change in ref.
func TestSet(t *testing.T) {
	b := backendtest.Go(t)
	pr := softmaxRegression()
	cfg := def(ref.Config{Alpha0: 0.1, Gamma0: 0.5, Beta: 0.1, Eta: 0.1})
	r := newGoMLXRun(t, b, pr, cfg, dtypes.Float64)
	if err := r.opt.Set(r.store, hgd.VarAlpha, 1); !errors.Is(err, hgd.ErrNoVariable) {
		t.Errorf("Set before the graph exists: %v, want ErrNoVariable", err)
	}
	p := pr.init
	st, _ := ref.Init(cfg, p)
	for i := range 20 {
		if i == 10 {
			for name, v := range map[string]float64{hgd.VarAlpha: 0.05, hgd.VarGamma: 0.8, hgd.VarBeta: 0.01, hgd.VarEta: 0.02} {
				if err := r.opt.Set(r.store, name, v); err != nil {
					t.Fatal(err)
				}
			}
			st.Alpha, st.Gamma = 0.05, 0.8
			cfg.Beta, cfg.Eta = 0.01, 0.02
		}
		p, st, _ = ref.Update(cfg, st, p, pr.grad(p))
		r.step(t)
	}
	if e := relErr(r.params(t), p); e > 1e-12 {
		t.Errorf("after Set, GoMLX and ref differ by %g", e)
	}
	if a, _ := hgd.Alpha(r.store); math.Abs(a-st.Alpha) > 1e-12 {
		t.Errorf("α %v, want %v", a, st.Alpha)
	}
	if g, _ := hgd.Gamma(r.store); math.Abs(g-st.Gamma) > 1e-12 {
		t.Errorf("γ %v, want %v", g, st.Gamma)
	}
	if n, err := hgd.Skipped(r.store); err != nil || n != 0 {
		t.Errorf("Skipped = %v, %v", n, err)
	}
}

// TestConfig: New keeps the configuration as given (zero means zero),
// Initial and Current give the variables' initial values before they exist,
// and an invalid configuration panics when the graph is built.
func TestConfig(t *testing.T) {
	c := hgd.Defaults(hgd.HGD)
	if c != ref.Defaults(ref.HGD) || c.Alpha0 != ref.DefaultAlpha0 || c.Beta != ref.DefaultBeta || c.Eta != ref.DefaultEta || c.Gamma0 != ref.DefaultGamma0 {
		t.Errorf("Defaults(HGD) = %+v", c)
	}
	c.Beta, c.Gamma0, c.Alpha0 = 0, 0, 0.3
	o := hgd.New(c)
	if o.Config() != c || o.Kind() != hgd.HGD {
		t.Errorf("Config() = %+v, want %+v", o.Config(), c)
	}
	store := model.NewStore()
	for name, want := range map[string]float64{hgd.VarAlpha: 0.3, hgd.VarGamma: 0, hgd.VarBeta: 0, hgd.VarEta: ref.DefaultEta, hgd.VarStep: 0} {
		if got, err := o.Current(store, name); err != nil || got != want {
			t.Errorf("Current(%s) = %v, %v before the variable exists; want %v", name, got, err, want)
		}
	}
	sgd := hgd.Defaults(hgd.SGD)
	sgd.Gamma0, sgd.Beta = 0.5, 0.5 // ignored by SGD
	if g, b := hgd.New(sgd).Initial(hgd.VarGamma), hgd.New(sgd).Initial(hgd.VarBeta); g != 0 || b != 0 {
		t.Errorf("SGD: initial γ %v β %v, want 0", g, b)
	}

	bad := hgd.Defaults(hgd.HGD)
	bad.GammaMax = 1
	r := newGoMLXRun(t, backendtest.Go(t), quadratic(), bad, dtypes.Float64)
	x := tensors.FromScalar(1.0)
	if _, err := r.trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x}}); err == nil || !strings.Contains(err.Error(), "GammaMax") {
		t.Errorf("an invalid configuration built a graph: %v", err)
	}
}
