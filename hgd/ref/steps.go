package ref

import "math"

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

// SmoothHypergradient is the HyperEMA transform of a hypergradient h at
// applied step n ≥ 1: the new average m' = ρ·m + (1−ρ)·h and the value the
// step uses, m'/(1 − ρⁿ) (the bias correction makes the first step use h
// itself, as Adam's does for its moments).
func SmoothHypergradient(rho, m, h float64, n int) (newM, used float64) {
	newM = rho*m + (1-rho)*h
	return newM, newM / (1 - math.Pow(rho, float64(n)))
}

// DecayedRate is the HyperDecay schedule of a hypergradient step size at
// applied step n ≥ 1: rate·τ/(τ + n − 1), so step 1 uses rate itself.
func DecayedRate(rate, tau float64, n int) float64 {
	return rate * tau / (tau + float64(n-1))
}

// The direction steps. Each is the step of one family of kinds on an
// applied (finite) step: it takes α, the kind's other scalars, the
// parameters θ, the gradient g (weight decay already added) and the
// buffers it reads, and returns new slices (it modifies none of its
// arguments). Update composes them after NextAlpha and NextGamma; package
// hgd builds the same steps in its graph (sgdUpdate, momentumUpdate,
// nesterovUpdate, adamUpdate) and tests each against its function here.

// SGDStep is the step of SGD and SGD-HD: θ − α·g. (SGD-HD keeps g itself
// as its next direction.)
func SGDStep(alpha float64, params, g [][]float64) [][]float64 {
	out := clone(params)
	for i := range out {
		for j := range out[i] {
			out[i][j] -= alpha * g[i][j]
		}
	}
	return out
}

// MomentumStep is the heavy-ball step of Momentum and HGD in Δ form:
// Δ' = γ·Δ − α·g and θ + Δ'. It returns the new parameters and Δ' (the
// next Δ_{t−1}).
func MomentumStep(alpha, gamma float64, params, g, delta [][]float64) (newParams, newDelta [][]float64) {
	newParams, newDelta = clone(params), zerosLike(params)
	for i := range newParams {
		for j := range newParams[i] {
			d := gamma*delta[i][j] - alpha*g[i][j]
			newDelta[i][j] = d
			newParams[i][j] += d
		}
	}
	return newParams, newDelta
}

// NesterovStep is the step of SGDN-HD with momentum μ: v' = μ·v + g,
// d = g + μ·v' and θ − α·d. It returns the new parameters, v' and the
// direction d (the next d_{t−2}).
func NesterovStep(alpha, mu float64, params, g, v [][]float64) (newParams, newV, dir [][]float64) {
	newParams, newV, dir = clone(params), zerosLike(params), zerosLike(params)
	for i := range newParams {
		for j := range newParams[i] {
			vij := mu*v[i][j] + g[i][j]
			d := g[i][j] + mu*vij
			newV[i][j] = vij
			dir[i][j] = d
			newParams[i][j] -= alpha * d
		}
	}
	return newParams, newV, dir
}

// AdamStep is the step of Adam and Adam-HD at applied step t (t ≥ 1):
// m1' = β1·m1 + (1−β1)·g, m2' = β2·m2 + (1−β2)·g², the bias corrections
// c1 = 1/(1−β1^t), c2 = 1/(1−β2^t), d = m1'·c1/(√(m2'·c2) + ε) and θ − α·d.
// It returns the new parameters, m1', m2' and the direction d (Adam-HD's
// next d_{t−2}).
func AdamStep(alpha, beta1, beta2, eps float64, t int, params, g, m1, m2 [][]float64) (newParams, newM1, newM2, dir [][]float64) {
	c1 := 1 / (1 - math.Pow(beta1, float64(t)))
	c2 := 1 / (1 - math.Pow(beta2, float64(t)))
	newParams, newM1, newM2, dir = clone(params), zerosLike(params), zerosLike(params), zerosLike(params)
	for i := range newParams {
		for j := range newParams[i] {
			gij := g[i][j]
			a := beta1*m1[i][j] + (1-beta1)*gij
			b := beta2*m2[i][j] + (1-beta2)*gij*gij
			newM1[i][j], newM2[i][j] = a, b
			d := a * c1 / (math.Sqrt(b*c2) + eps)
			dir[i][j] = d
			newParams[i][j] -= alpha * d
		}
	}
	return newParams, newM1, newM2, dir
}
