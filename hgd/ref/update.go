package ref

import (
	"fmt"
	"math"
)

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
	// MAlpha and MGamma are the averages of HAlpha and HGamma kept by
	// Config.HyperEMA (not bias-corrected; 0 without it).
	MAlpha, MGamma float64
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
	if !ok {
		ns.Dir, ns.Delta1, ns.Delta2 = clone(st.Dir), clone(st.Delta1), clone(st.Delta2)
		ns.V, ns.M1, ns.M2 = clone(st.V), clone(st.M1), clone(st.M2)
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
		return clone(params), ns, nil
	}
	ns.Step++
	ns.HAlpha, ns.HGamma = hA, hG

	// α and γ, from the hypergradients averaged by HyperEMA and at the step
	// sizes decayed by HyperDecay when those are set.
	if c.HyperEMA > 0 {
		ns.MAlpha, hA = SmoothHypergradient(c.HyperEMA, st.MAlpha, hA, ns.Step)
		if k == HGD {
			ns.MGamma, hG = SmoothHypergradient(c.HyperEMA, st.MGamma, hG, ns.Step)
		}
	}
	if c.HyperDecay > 0 {
		c.Beta, c.Eta = DecayedRate(c.Beta, c.HyperDecay, ns.Step), DecayedRate(c.Eta, c.HyperDecay, ns.Step)
	}
	if k.HasAlphaHypergradient() {
		ns.Alpha = NextAlpha(c, st.Alpha, hA, gg, st.DirSq)
	}
	if k == HGD {
		ns.Gamma = NextGamma(c, st.Gamma, hG, gg, st.Delta2Sq)
	}
	a, gm := ns.Alpha, ns.Gamma

	// The kind's direction step. It replaces every buffer the kind has, so
	// ns shares none with st.
	var out [][]float64
	switch k {
	case SGD, SGDHD:
		out = SGDStep(a, params, g)
		if k == SGDHD {
			ns.Dir = g
			ns.DirSq = gg
		}
	case Momentum, HGD:
		out, ns.Delta1 = MomentumStep(a, gm, params, g, st.Delta1)
		if k == HGD {
			ns.Delta2 = clone(st.Delta1)
			ns.Dir = g
			ns.DirSq = gg
			if c.Normalized {
				ns.Delta2Sq = st.Delta1Sq
				ns.Delta1Sq = dot(ns.Delta1, ns.Delta1)
			}
		}
	case SGDNHD:
		out, ns.V, ns.Dir = NesterovStep(a, gm, params, g, st.V)
		if c.Normalized {
			ns.DirSq = dot(ns.Dir, ns.Dir)
		}
	case Adam, AdamHD:
		var d [][]float64
		out, ns.M1, ns.M2, d = AdamStep(a, c.AdamBeta1, c.AdamBeta2, c.AdamEps, ns.Step, params, g, st.M1, st.M2)
		if k == AdamHD {
			ns.Dir = d
			if c.Normalized {
				ns.DirSq = dot(d, d)
			}
		}
	}
	return out, ns, nil
}
