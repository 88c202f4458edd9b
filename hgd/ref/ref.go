// Package ref is the standard-library, float64 reference implementation of
// the optimizers of package hgd: plain SGD, SGD with heavy-ball momentum, the
// hypergradient descent of Seifi & Niaki (2023) that adapts both the
// learning rate α and the momentum γ ("HGD"), and Baydin et al. (2018)'s
// SGD-HD, SGDN-HD (Nesterov) and Adam-HD, plus Adam.
//
// It is written in the style of optax: [Init] creates a [State] from the
// parameters, [Update] is a pure function from (parameters, gradients,
// state) to (new parameters, new state); neither modifies its arguments.
// Parameters are a list of flat float64 slices (one per tensor); all dot
// products ("·") run over all of them flattened together, as in Baydin's
// global scalar learning rate.
//
// It is the test oracle of package hgd and what a script uses to run HGD
// without GoMLX.
//
// # The HGD update
//
// With g_t = ∇f(θ_t) (plus WeightDecay·θ_t when set) and Δ_t = θ_t − θ_{t−1},
// one call of Update at step t (t = 1, 2, …) does
//
//	h_α = g_{t−1} · g_{t−2}                  (= −∂f(θ_{t−1})/∂α_{t−1})
//	h_γ = g_{t−1} · Δ_{t−2}                  (=  ∂f(θ_{t−1})/∂γ_{t−1})
//	α_t = α_{t−1} + β·h_α                     projected into [AlphaMin, AlphaMax]
//	γ_t = γ_{t−1} − η·h_γ                     projected into [0, GammaMax]
//	Δ_t = γ_t·Δ_{t−1} − α_t·g_{t−1}
//	θ_t = θ_{t−1} + Δ_t
//
// This is the heavy-ball sign convention (a momentum of 0.9 keeps going the
// way the last step went). The paper writes the momentum term with a minus
// sign in eq. (2)/Algorithm 1 and a plus in eq. (9); under γ ↦ −γ that is the
// same algorithm, but with its signs a momentum of 0.9 would push back
// against the last step, so the heavy-ball form is used. Missing history is
// zero, so α first changes at step 2 and γ at step 3.
//
// With β = η = 0 HGD is exactly [Momentum]; with γ0 = 0 and η = 0 it is
// exactly [SGDHD].
//
// Baydin's variants use the same α rule with the direction d they step along
// (θ_t = θ_{t−1} − α_t·d_{t−1}): h_α = g_{t−1}·d_{t−2}; d = g for SGD-HD,
// d = g + μ·v (v ← μ·v + g) for SGDN-HD, and d = m̂/(√v̂ + ε) for Adam-HD.
//
// # Safeguards (on by default)
//
//   - α is projected into [AlphaMin, AlphaMax] (defaults 0 and 0.2, the
//     largest learning rate the paper searches; Adam kinds: 0 and 0.1) and γ into [0, GammaMax] (default 0.99). Set
//     Unbounded to turn the projection off (Baydin's code has none).
//   - A step whose gradient or hypergradients are not finite (NaN, ±Inf, or
//     an overflowing dot product) is skipped and counted in State.Skipped:
//     θ, α, γ, Adam's moments and State.Step stay as they were. The one-step
//     history is shifted as if a zero step had been taken (Δ_{t−1} and the
//     last direction become zero, Δ_{t−2} takes the old Δ_{t−1}), so momentum
//     restarts after a skipped step. Every kind has this check, so a
//     non-finite value never reaches α, γ or θ.
//   - Normalized selects the multiplicative rule
//     α_t = α_{t−1}·(1 + β·cos(g_{t−1}, d_{t−2})) and
//     γ_t = γ_{t−1}·(1 − η·cos(g_{t−1}, Δ_{t−2})), which is invariant to the
//     scale of the gradients (cos is 0 when either vector is 0). Note that a
//     γ that is 0 stays 0 under this rule.
//
// # Defaults
//
// [Defaults] returns a kind's complete configuration, every hyperparameter
// at its documented default; set the fields to change on that value. A
// [Config] is taken as it is: a zero field means zero (a zero β fixes α, a
// zero γ0 is no momentum), never "the default".
package ref

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Kind names one of the optimizers.
type Kind int

// The optimizers.
const (
	// HGD adapts α and γ by hypergradient descent (Seifi & Niaki 2023). It is
	// the zero value, so a zero Config is HGD with default hyperparameters.
	HGD Kind = iota
	// SGD is plain stochastic gradient descent, θ_t = θ_{t−1} − α·g_{t−1}.
	SGD
	// Momentum is SGD with heavy-ball momentum in Δ form:
	// Δ' = γ·Δ − α·g, θ_t = θ_{t−1} + Δ' (the paper's "SGD" arm).
	Momentum
	// SGDHD is Baydin et al.'s SGD with hypergradient-adapted α.
	SGDHD
	// SGDNHD is Baydin et al.'s SGD with Nesterov momentum μ = γ0 (fixed) and
	// hypergradient-adapted α.
	SGDNHD
	// AdamHD is Baydin et al.'s Adam with hypergradient-adapted α.
	AdamHD
	// Adam is Kingma & Ba's Adam (L2 weight decay added to the gradient).
	Adam
	numKinds
)

var kindNames = [...]string{"hgd", "sgd", "momentum", "sgd-hd", "sgdn-hd", "adam-hd", "adam"}

// String returns the kind's name: "hgd", "sgd", "momentum", "sgd-hd",
// "sgdn-hd", "adam-hd" or "adam".
func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// ParseKind is the inverse of Kind.String (case-insensitive).
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if strings.EqualFold(s, n) {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("ref: unknown optimizer kind %q (want one of %s)", s, strings.Join(kindNames[:], ", "))
}

// Kinds lists all kinds.
func Kinds() []Kind {
	out := make([]Kind, numKinds)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// HasAlphaHypergradient reports whether the kind adapts α.
func (k Kind) HasAlphaHypergradient() bool {
	return k == HGD || k == SGDHD || k == SGDNHD || k == AdamHD
}

// HasGamma reports whether the kind uses a momentum γ (adapted or not).
func (k Kind) HasGamma() bool { return k == HGD || k == Momentum || k == SGDNHD }

// IsAdam reports whether the kind is Adam or Adam-HD.
func (k Kind) IsAdam() bool { return k == Adam || k == AdamHD }

// Default hyperparameters. The SGD-family values were chosen by the sweep
// recorded in package hgd's documentation; the Adam ones are Baydin et al.'s.
const (
	DefaultAlpha0     = 0.01  // α0 for SGD, Momentum, HGD, SGD-HD, SGDN-HD
	DefaultGamma0     = 0.9   // γ0 (μ for SGDN-HD)
	DefaultBeta       = 1e-4  // β for HGD, SGD-HD, SGDN-HD
	DefaultEta        = 1e-2  // η for HGD
	DefaultAlphaMax   = 0.2   // upper bound of α (SGD family): the paper's largest searched learning rate
	DefaultGammaMax   = 0.99  // upper bound of γ
	DefaultAdamAlpha0 = 1e-3  // α0 for Adam and Adam-HD
	DefaultAdamBeta   = 1e-7  // β for Adam-HD (Baydin et al.)
	DefaultAdamMax    = 0.1   // upper bound of α for Adam kinds
	DefaultAdamBeta1  = 0.9   // Adam's first-moment decay
	DefaultAdamBeta2  = 0.999 // Adam's second-moment decay
	DefaultAdamEps    = 1e-8  // Adam's ε
)

// Config holds an optimizer's hyperparameters. Every field is used as it is
// (zero means zero): start from [Defaults] and change what differs. A
// zero Config is HGD with every hyperparameter 0, which never moves θ.
type Config struct {
	Kind Kind

	// Alpha0 is the initial learning rate α0 (default DefaultAlpha0, or
	// DefaultAdamAlpha0 for Adam kinds).
	Alpha0 float64
	// Gamma0 is the initial momentum γ0 (μ of SGDN-HD); default
	// DefaultGamma0, 0 for kinds without momentum, which ignore it.
	Gamma0 float64
	// Beta is the hypergradient step size for α (default DefaultBeta, or
	// DefaultAdamBeta for Adam-HD; 0 for kinds that do not adapt α, which
	// ignore it).
	Beta float64
	// Eta is the hypergradient step size for γ (HGD only; default
	// DefaultEta, 0 for the other kinds, which ignore it).
	Eta float64

	// AlphaMin and AlphaMax bound α (defaults 0 and DefaultAlphaMax, or
	// DefaultAdamMax for Adam kinds). GammaMax bounds γ from above (default
	// DefaultGammaMax; must be < 1); γ's lower bound is 0. The bounds apply
	// to the kinds that adapt α and γ.
	AlphaMin, AlphaMax, GammaMax float64
	// Unbounded turns the projection of α and γ off (default false).
	Unbounded bool
	// Normalized selects the multiplicative (cosine) hypergradient rule
	// (default false).
	Normalized bool

	// WeightDecay is an L2 coefficient added to the gradient: g += wd·θ
	// (default 0).
	WeightDecay float64

	// AdamBeta1, AdamBeta2 and AdamEps configure the Adam kinds (defaults
	// DefaultAdamBeta1, DefaultAdamBeta2, DefaultAdamEps, for every kind).
	AdamBeta1, AdamBeta2, AdamEps float64
}

// Defaults returns kind's configuration with every hyperparameter at its
// default: the values of the Default* constants that the kind uses, and 0
// for Gamma0, Beta and Eta where the kind has no momentum, does not adapt α
// or does not adapt γ.
func Defaults(kind Kind) Config {
	c := Config{Kind: kind, Alpha0: DefaultAlpha0, Gamma0: DefaultGamma0, Beta: DefaultBeta, Eta: DefaultEta,
		AlphaMax: DefaultAlphaMax, GammaMax: DefaultGammaMax,
		AdamBeta1: DefaultAdamBeta1, AdamBeta2: DefaultAdamBeta2, AdamEps: DefaultAdamEps}
	if kind.IsAdam() {
		c.Alpha0, c.AlphaMax, c.Beta = DefaultAdamAlpha0, DefaultAdamMax, DefaultAdamBeta
	}
	if !kind.HasAlphaHypergradient() {
		c.Beta = 0
	}
	if kind != HGD {
		c.Eta = 0
	}
	if !kind.HasGamma() {
		c.Gamma0 = 0
	}
	return c
}

// Validate checks the configuration: a known kind, finite and non-negative
// values, AlphaMin ≤ AlphaMax, GammaMax < 1, γ0 ≤ GammaMax (unless
// Unbounded) and Adam's decays < 1.
func (c Config) Validate() error {
	var errs []error
	if c.Kind < 0 || c.Kind >= numKinds {
		errs = append(errs, fmt.Errorf("ref: unknown kind %d", int(c.Kind)))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"Alpha0", c.Alpha0}, {"Gamma0", c.Gamma0}, {"Beta", c.Beta}, {"Eta", c.Eta},
		{"AlphaMin", c.AlphaMin}, {"AlphaMax", c.AlphaMax}, {"GammaMax", c.GammaMax},
		{"WeightDecay", c.WeightDecay}, {"AdamBeta1", c.AdamBeta1}, {"AdamBeta2", c.AdamBeta2}, {"AdamEps", c.AdamEps}} {
		switch {
		case math.IsNaN(f.v) || math.IsInf(f.v, 0):
			errs = append(errs, fmt.Errorf("ref: %s = %v is not finite", f.name, f.v))
		case f.v < 0:
			errs = append(errs, fmt.Errorf("ref: %s = %v < 0", f.name, f.v))
		}
	}
	if c.AlphaMin > c.AlphaMax {
		errs = append(errs, fmt.Errorf("ref: AlphaMin = %v > AlphaMax = %v", c.AlphaMin, c.AlphaMax))
	}
	if c.GammaMax >= 1 {
		errs = append(errs, fmt.Errorf("ref: GammaMax = %v must be < 1", c.GammaMax))
	}
	if !c.Unbounded && c.Kind.HasGamma() && c.Gamma0 > c.GammaMax {
		errs = append(errs, fmt.Errorf("ref: Gamma0 = %v > GammaMax = %v", c.Gamma0, c.GammaMax))
	}
	if c.AdamBeta1 >= 1 || c.AdamBeta2 >= 1 {
		errs = append(errs, fmt.Errorf("ref: Adam betas (%v, %v) must be < 1", c.AdamBeta1, c.AdamBeta2))
	}
	return errors.Join(errs...)
}

// State is the optimizer state. Update returns a new State and never
// modifies the one it is given.
type State struct {
	// Alpha and Gamma are the current α and γ (Gamma is 0 for kinds without
	// momentum).
	Alpha, Gamma float64
	// HAlpha and HGamma are the hypergradients used at the last applied step:
	// HAlpha = g_{t−1}·d_{t−2} (= −∂f(θ_{t−1})/∂α_{t−1}) and
	// HGamma = g_{t−1}·Δ_{t−2} (= ∂f(θ_{t−1})/∂γ_{t−1}).
	HAlpha, HGamma float64
	// Step counts the applied steps, Skipped the skipped (non-finite) ones.
	Step, Skipped int

	// Dir is the last direction d_{t−2} (g_{t−2} for HGD and SGD-HD), used
	// by kinds that adapt α.
	Dir [][]float64
	// Delta1 is Δ_{t−1} (Momentum, HGD) and Delta2 is Δ_{t−2} (HGD).
	Delta1, Delta2 [][]float64
	// V is the velocity of SGDN-HD.
	V [][]float64
	// M1 and M2 are Adam's moments.
	M1, M2 [][]float64
	// DirSq = |d_{t−2}|², Delta1Sq = |Δ_{t−1}|² and Delta2Sq = |Δ_{t−2}|²,
	// used by the normalized rule.
	DirSq, Delta1Sq, Delta2Sq float64
}

func zerosLike(p [][]float64) [][]float64 {
	out := make([][]float64, len(p))
	for i := range p {
		out[i] = make([]float64, len(p[i]))
	}
	return out
}

func clone(p [][]float64) [][]float64 {
	if p == nil {
		return nil
	}
	out := make([][]float64, len(p))
	for i := range p {
		out[i] = append([]float64(nil), p[i]...)
	}
	return out
}

// Init returns the initial state for the parameters' shapes.
func Init(cfg Config, params [][]float64) (State, error) {
	if err := cfg.Validate(); err != nil {
		return State{}, err
	}
	c := cfg
	st := State{Alpha: c.Alpha0}
	k := c.Kind
	if k.HasGamma() {
		st.Gamma = c.Gamma0
	}
	if k.HasAlphaHypergradient() {
		st.Dir = zerosLike(params)
	}
	if k == Momentum || k == HGD {
		st.Delta1 = zerosLike(params)
	}
	if k == HGD {
		st.Delta2 = zerosLike(params)
	}
	if k == SGDNHD {
		st.V = zerosLike(params)
	}
	if k.IsAdam() {
		st.M1, st.M2 = zerosLike(params), zerosLike(params)
	}
	return st, nil
}

func dot(a, b [][]float64) float64 {
	var s float64
	for i := range a {
		for j, x := range a[i] {
			s += x * b[i][j]
		}
	}
	return s
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func cosine(h, aa, bb float64) float64 {
	den := math.Sqrt(aa * bb)
	if den > 0 {
		return h / den
	}
	return 0
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

// NextAlpha is the hypergradient step of α: α + β·h_α, or with the
// normalized rule α·(1 + β·cos) where cos = h_α/√(gg·dirSq) (0 when that is
// 0; gg = |g|², dirSq = |d_{t−2}|²), projected into [AlphaMin, AlphaMax]
// unless Unbounded.
func NextAlpha(c Config, alpha, hA, gg, dirSq float64) float64 {
	var a float64
	if c.Normalized {
		a = alpha * (1 + c.Beta*cosine(hA, gg, dirSq))
	} else {
		a = alpha + c.Beta*hA
	}
	if !c.Unbounded {
		a = clamp(a, c.AlphaMin, c.AlphaMax)
	}
	return a
}

// NextGamma is HGD's hypergradient step of γ: γ − η·h_γ, or with the
// normalized rule γ·(1 − η·cos) where cos = h_γ/√(gg·delta2Sq), projected
// into [0, GammaMax] unless Unbounded.
func NextGamma(c Config, gamma, hG, gg, delta2Sq float64) float64 {
	var x float64
	if c.Normalized {
		x = gamma * (1 - c.Eta*cosine(hG, gg, delta2Sq))
	} else {
		x = gamma - c.Eta*hG
	}
	if !c.Unbounded {
		x = clamp(x, 0, c.GammaMax)
	}
	return x
}

// Update does one optimizer step: it returns the new parameters and state.
// grads are ∇f at params (without weight decay, which Update adds). It does
// not modify its arguments. A skipped step (see the package documentation)
// returns copies of params and a state with Skipped incremented.
func Update(cfg Config, st State, params, grads [][]float64) ([][]float64, State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, st, err
	}
	c := cfg
	if len(params) != len(grads) {
		return nil, st, fmt.Errorf("ref: %d parameter tensors but %d gradients", len(params), len(grads))
	}
	for i := range params {
		if len(params[i]) != len(grads[i]) {
			return nil, st, fmt.Errorf("ref: tensor %d has %d parameters but %d gradients", i, len(params[i]), len(grads[i]))
		}
	}
	k := c.Kind
	// g = ∇f + wd·θ.
	g := clone(grads)
	if c.WeightDecay != 0 {
		for i := range g {
			for j := range g[i] {
				g[i][j] += c.WeightDecay * params[i][j]
			}
		}
	}

	// Hypergradients and the finiteness check: one dot product each.
	var hA, hG, gg float64
	ok := true
	switch {
	case k.HasAlphaHypergradient():
		hA = dot(g, st.Dir)
		ok = finite(hA)
		if k == HGD {
			hG = dot(g, st.Delta2)
			ok = ok && finite(hG)
		}
	case k == Momentum:
		ok = finite(dot(g, st.Delta1))
	default:
		ok = finite(dot(g, g))
	}
	if c.Normalized && k.HasAlphaHypergradient() {
		gg = dot(g, g)
		ok = ok && finite(gg)
	}

	ns := st
	ns.Dir, ns.Delta1, ns.Delta2 = clone(st.Dir), clone(st.Delta1), clone(st.Delta2)
	ns.V, ns.M1, ns.M2 = clone(st.V), clone(st.M1), clone(st.M2)
	out := clone(params)
	if !ok {
		ns.Skipped++
		// History shifts as if a zero step had been taken.
		if k == HGD {
			ns.Delta2 = clone(st.Delta1)
			ns.Delta2Sq = st.Delta1Sq
		}
		for _, buf := range [][][]float64{ns.Dir, ns.Delta1} {
			for i := range buf {
				clear(buf[i])
			}
		}
		ns.DirSq, ns.Delta1Sq = 0, 0
		return out, ns, nil
	}
	ns.Step++
	ns.HAlpha, ns.HGamma = hA, hG

	// α and γ.
	if k.HasAlphaHypergradient() {
		ns.Alpha = NextAlpha(c, st.Alpha, hA, gg, st.DirSq)
	}
	if k == HGD {
		ns.Gamma = NextGamma(c, st.Gamma, hG, gg, st.Delta2Sq)
	}
	a, gm := ns.Alpha, ns.Gamma

	switch k {
	case SGD, SGDHD:
		for i := range out {
			for j := range out[i] {
				out[i][j] -= a * g[i][j]
			}
		}
		if k == SGDHD {
			ns.Dir = g
			ns.DirSq = gg
		}
	case Momentum, HGD:
		if k == HGD {
			ns.Delta2 = clone(st.Delta1)
			ns.Dir = g
			ns.DirSq = gg
		}
		var dsq float64
		for i := range out {
			for j := range out[i] {
				d := gm*st.Delta1[i][j] - a*g[i][j]
				ns.Delta1[i][j] = d
				out[i][j] += d
				dsq += d * d
			}
		}
		if c.Normalized && k == HGD {
			ns.Delta2Sq = st.Delta1Sq
			ns.Delta1Sq = dsq
		}
	case SGDNHD:
		var dsq float64
		for i := range out {
			for j := range out[i] {
				v := gm*st.V[i][j] + g[i][j]
				d := g[i][j] + gm*v
				ns.V[i][j] = v
				ns.Dir[i][j] = d
				out[i][j] -= a * d
				dsq += d * d
			}
		}
		if c.Normalized {
			ns.DirSq = dsq
		}
	case Adam, AdamHD:
		b1, b2 := c.AdamBeta1, c.AdamBeta2
		t := float64(ns.Step)
		c1 := 1 / (1 - math.Pow(b1, t))
		c2 := 1 / (1 - math.Pow(b2, t))
		var dsq float64
		for i := range out {
			for j := range out[i] {
				gij := g[i][j]
				m1 := b1*st.M1[i][j] + (1-b1)*gij
				m2 := b2*st.M2[i][j] + (1-b2)*gij*gij
				ns.M1[i][j], ns.M2[i][j] = m1, m2
				d := m1 * c1 / (math.Sqrt(m2*c2) + c.AdamEps)
				if k == AdamHD {
					ns.Dir[i][j] = d
				}
				out[i][j] -= a * d
				dsq += d * d
			}
		}
		if c.Normalized && k == AdamHD {
			ns.DirSq = dsq
		}
	}
	return out, ns, nil
}
