package hgd

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX's graph DSL
)

// The direction steps come in two layers.
//
// sgdStep, momentumStep, nesterovStep and adamStep are pure graph
// functions, the GoMLX form of ref.SGDStep, ref.MomentumStep,
// ref.NesterovStep and ref.AdamStep: they take α, the kind's other scalars,
// θ, the gradient and the buffers they read, and return new nodes.
// TestDirectionStepParity compares each with its ref function.
//
// sgdUpdate, momentumUpdate, nesterovUpdate and adamUpdate wire them into
// the optimizer: each takes the guarded gradient gs (zero on a skipped
// step), θ and the α to use (0 on a skipped step), passes the step the
// scalars that make a skipped step a no-op, writes the kind's buffers and
// returns the new parameters. Each is the matching case of ref.Update's
// switch on the kind, and TestParity runs every kind against ref.Update.

// sgdStep is ref.SGDStep: θ − α·g.
func sgdStep(alpha *Node, theta, g []*Node) []*Node {
	out := make([]*Node, len(theta))
	for i := range theta {
		out[i] = Sub(theta[i], Mul(alpha, g[i]))
	}
	return out
}

// momentumStep is ref.MomentumStep: Δ' = γ·Δ − α·g and θ + Δ'; it returns
// the new parameters and Δ'.
func momentumStep(alpha, gamma *Node, theta, g, delta []*Node) (out, newDelta []*Node) {
	out, newDelta = make([]*Node, len(theta)), make([]*Node, len(theta))
	for i := range theta {
		newDelta[i] = Sub(Mul(gamma, delta[i]), Mul(alpha, g[i]))
		out[i] = Add(theta[i], newDelta[i])
	}
	return out, newDelta
}

// nesterovStep is ref.NesterovStep: v' = μ·v + g, d = g + μ·v' and θ − α·d;
// it returns the new parameters, v' and d.
func nesterovStep(alpha, mu *Node, theta, g, v []*Node) (out, newV, dir []*Node) {
	out, newV, dir = make([]*Node, len(theta)), make([]*Node, len(theta)), make([]*Node, len(theta))
	for i := range theta {
		newV[i] = Add(Mul(mu, v[i]), g[i])
		dir[i] = Add(g[i], Mul(mu, newV[i]))
		out[i] = Sub(theta[i], Mul(alpha, dir[i]))
	}
	return out, newV, dir
}

// adamBiasCorrection is 1/(1 − β^t), Adam's bias correction at step t.
func adamBiasCorrection(beta, t *Node) *Node {
	return Reciprocal(Sub(ScalarOne(t.Graph(), t.DType()), Pow(beta, t)))
}

// adamStep is ref.AdamStep: m1' = β1·m1 + (1−β1)·g,
// m2' = β2·m2 + (1−β2)·g², d = m1'·c1/(√(m2'·c2) + ε) and θ − α·d; it
// returns the new parameters, m1', m2' and d. Unlike ref.AdamStep it takes
// the bias corrections c1, c2 (adamBiasCorrection of β1, β2 at step t)
// rather than t, so that adamUpdate can zero c1 on a skipped step.
func adamStep(alpha, beta1, beta2, c1, c2, eps *Node, theta, g, m1, m2 []*Node) (out, newM1, newM2, dir []*Node) {
	n := len(theta)
	out, newM1, newM2, dir = make([]*Node, n), make([]*Node, n), make([]*Node, n), make([]*Node, n)
	one := ScalarOne(alpha.Graph(), alpha.DType())
	for i := range theta {
		newM1[i] = Add(Mul(beta1, m1[i]), Mul(Sub(one, beta1), g[i]))
		newM2[i] = Add(Mul(beta2, m2[i]), Mul(Sub(one, beta2), Mul(g[i], g[i])))
		dir[i] = Div(Mul(newM1[i], c1), Add(Sqrt(Mul(newM2[i], c2)), eps))
		out[i] = Sub(theta[i], Mul(alpha, dir[i]))
	}
	return out, newM1, newM2, dir
}

// sgdUpdate is plain SGD and SGD-HD (sgdStep); SGD-HD keeps g as the next
// direction (and |g|² for the normalized rule).
func sgdUpdate(s *stepState, st *optState, gd *guarded, theta []*Node, alpha *Node) []*Node {
	out := sgdStep(alpha, theta, gd.gs)
	if s.c.Kind == SGDHD {
		for i := range theta {
			st.dirVars[i].SetNodeValue(gd.gs[i])
		}
		if st.normalized {
			st.setDirSq(gd.sel(gd.gg, s.zero))
		}
	}
	return out
}

// momentumUpdate is heavy-ball momentum in Δ form (Momentum and HGD,
// momentumStep; γ is 0 on a skipped step, so Δ' = 0); HGD also shifts
// Δ_{t−1} into Δ_{t−2} and keeps g as the next direction (and the squared
// norms of the normalized rule).
func momentumUpdate(s *stepState, st *optState, gd *guarded, theta []*Node, alpha, gamma *Node) []*Node {
	out, newD1 := momentumStep(alpha, gamma, theta, gd.gs, st.d1)
	for i := range theta {
		st.d1Vars[i].SetNodeValue(newD1[i])
	}
	if s.c.Kind == HGD {
		for i := range theta {
			st.d2Vars[i].SetNodeValue(st.d1[i])
			st.dirVars[i].SetNodeValue(gd.gs[i])
		}
		if st.normalized {
			st.setDirSq(gd.sel(gd.gg, s.zero))
			st.setD2Sq(st.d1Sq)
			st.setD1Sq(dotAll(newD1, newD1))
		}
	}
	return out
}

// nesterovUpdate is SGDN-HD (nesterovStep with μ = γ, fixed); d is the
// next direction. On a skipped step μ is 1, so v is kept (v' = 1·v + 0),
// θ is kept (α = 0), and the direction stored is 0.
func nesterovUpdate(s *stepState, st *optState, gd *guarded, theta []*Node, alpha *Node) []*Node {
	out, v, d := nesterovStep(alpha, gd.sel(st.gamma, s.one), theta, gd.gs, st.vel)
	for i := range theta {
		st.vVars[i].SetNodeValue(v[i])
		st.dirVars[i].SetNodeValue(gd.sel(d[i], s.zero))
	}
	if st.normalized {
		st.setDirSq(gd.sel(dotAll(d, d), s.zero))
	}
	return out
}

// adamUpdate is Adam and Adam-HD (adamStep, with the bias corrections at
// the applied-step count); Adam-HD keeps d as the next direction. On a
// skipped step the moments are kept (decays 1) and d is 0 (c1 = 0).
func adamUpdate(s *stepState, st *optState, gd *guarded, theta []*Node, alpha *Node) []*Node {
	c := s.c
	b1 := gd.sel(s.scalar(c.AdamBeta1), s.one)
	b2 := gd.sel(s.scalar(c.AdamBeta2), s.one)
	t := Max(ConvertDType(gd.step, s.dtype), s.one)
	c1 := gd.sel(adamBiasCorrection(s.scalar(c.AdamBeta1), t), s.zero)
	c2 := adamBiasCorrection(s.scalar(c.AdamBeta2), t)
	out, m1, m2, d := adamStep(alpha, b1, b2, c1, c2, s.scalar(c.AdamEps), theta, gd.gs, st.m1, st.m2)
	for i := range theta {
		st.m1Vars[i].SetNodeValue(m1[i])
		st.m2Vars[i].SetNodeValue(m2[i])
		if c.Kind == AdamHD {
			st.dirVars[i].SetNodeValue(d[i])
		}
	}
	if st.normalized {
		st.setDirSq(dotAll(d, d))
	}
	return out
}
