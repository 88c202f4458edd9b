package hgd

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX's graph DSL
)

// The direction steps: each takes the guarded gradient gs (zero on a skipped
// step), the parameters θ and the α to use (0 on a skipped step), updates
// the kind's buffers and returns the new parameters. Each is the matching
// case of ref.Update's switch on the kind; TestParity runs every kind
// against ref.Update, so each direction step has its own parity case.

// sgdUpdate is plain SGD and SGD-HD: θ − α·g; SGD-HD keeps g as the next
// direction (and |g|² for the normalized rule).
func sgdUpdate(s *stepState, st *optState, gd *guarded, theta []*Node, alpha *Node) []*Node {
	out := make([]*Node, len(theta))
	for i := range theta {
		out[i] = Sub(theta[i], Mul(alpha, gd.gs[i]))
	}
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

// momentumUpdate is heavy-ball momentum in Δ form (Momentum and HGD):
// Δ' = γ·Δ − α·g, θ + Δ'; HGD also shifts Δ_{t−1} into Δ_{t−2} and keeps g
// as the next direction (and the squared norms of the normalized rule).
func momentumUpdate(s *stepState, st *optState, gd *guarded, theta []*Node, alpha, gamma *Node) []*Node {
	out := make([]*Node, len(theta))
	newD1 := make([]*Node, len(theta))
	for i := range theta {
		newD1[i] = Sub(Mul(gamma, st.d1[i]), Mul(alpha, gd.gs[i]))
		out[i] = Add(theta[i], newD1[i])
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

// nesterovUpdate is SGDN-HD: v' = μ·v + g, d = g + μ·v', θ − α·d, with
// μ = γ (fixed); d is the next direction. On a skipped step v is kept
// (μ_v = 1) and d is 0.
func nesterovUpdate(s *stepState, st *optState, gd *guarded, theta []*Node, alpha *Node) []*Node {
	muV := gd.sel(st.gamma, s.one)
	muD := gd.sel(st.gamma, s.zero)
	out := make([]*Node, len(theta))
	d := make([]*Node, len(theta))
	for i := range theta {
		v := Add(Mul(muV, st.vel[i]), gd.gs[i])
		d[i] = Add(gd.gs[i], Mul(muD, v))
		st.vVars[i].SetNodeValue(v)
		st.dirVars[i].SetNodeValue(d[i])
		out[i] = Sub(theta[i], Mul(alpha, d[i]))
	}
	if st.normalized {
		st.setDirSq(dotAll(d, d))
	}
	return out
}

// adamUpdate is Adam and Adam-HD: the moments m1, m2 with bias correction
// at the applied-step count, d = m̂/(√v̂ + ε), θ − α·d; Adam-HD keeps d as
// the next direction. On a skipped step the moments are kept (decays 1)
// and d is 0.
func adamUpdate(s *stepState, st *optState, gd *guarded, theta []*Node, alpha *Node) []*Node {
	c := s.c
	b1 := gd.sel(s.scalar(c.AdamBeta1), s.one)
	b2 := gd.sel(s.scalar(c.AdamBeta2), s.one)
	t := Max(ConvertDType(gd.step, s.dtype), s.one)
	c1 := gd.sel(Reciprocal(Sub(s.one, Pow(s.scalar(c.AdamBeta1), t))), s.zero)
	c2 := Reciprocal(Sub(s.one, Pow(s.scalar(c.AdamBeta2), t)))
	eps := s.scalar(c.AdamEps)
	out := make([]*Node, len(theta))
	d := make([]*Node, len(theta))
	for i := range theta {
		nm1 := Add(Mul(b1, st.m1[i]), Mul(Sub(s.one, b1), gd.gs[i]))
		nm2 := Add(Mul(b2, st.m2[i]), Mul(Sub(s.one, b2), Mul(gd.gs[i], gd.gs[i])))
		st.m1Vars[i].SetNodeValue(nm1)
		st.m2Vars[i].SetNodeValue(nm2)
		d[i] = Div(Mul(nm1, c1), Add(Sqrt(Mul(nm2, c2)), eps))
		if c.Kind == AdamHD {
			st.dirVars[i].SetNodeValue(d[i])
		}
		out[i] = Sub(theta[i], Mul(alpha, d[i]))
	}
	if st.normalized {
		st.setDirSq(dotAll(d, d))
	}
	return out
}
