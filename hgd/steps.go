package hgd

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX's graph DSL
	"github.com/gomlx/gomlx/ml/model"
)

// stepState is what the steps of one update share: the graph, the dtype
// of the computation, the optimizer's scope and the parameters.
type stepState struct {
	o         *Optimizer
	c         Config
	g         *Graph
	dtype     dtypes.DType
	store     *model.Store
	oscope    *model.Scope
	params    []*model.Variable
	zero, one *Node
}

func (o *Optimizer) newStepState(store *model.Store, g *Graph, params []*model.Variable, dtype dtypes.DType) *stepState {
	return &stepState{o: o, c: o.cfg, g: g, dtype: dtype, store: store, oscope: store.Scope(o.Scope()),
		params: params, zero: Scalar(g, dtype, 0), one: Scalar(g, dtype, 1)}
}

func (s *stepState) scalar(v float64) *Node { return Scalar(s.g, s.dtype, v) }

// convert casts x to the dtype of the computation.
func (s *stepState) convert(x *Node) *Node {
	if x.DType() != s.dtype {
		return ConvertDType(x, s.dtype)
	}
	return x
}

// buffers returns the per-parameter state variables <param>_<suffix> and
// their values.
func (s *stepState) buffers(suffix string) ([]*model.Variable, []*Node) {
	vs := make([]*model.Variable, len(s.params))
	ns := make([]*Node, len(s.params))
	for i, p := range s.params {
		vs[i] = s.o.buffer(s.store, p, suffix, s.dtype)
		ns[i] = vs[i].NodeValue(s.g)
	}
	return vs, ns
}

// optState is the optimizer state one step reads: α, γ, the kind's
// per-parameter buffers and, for the normalized rule, their squared norms.
type optState struct {
	alpha, gamma       *Node
	setAlpha, setGamma func(*Node)

	dirVars, d1Vars, d2Vars, vVars, m1Vars, m2Vars []*model.Variable
	dir, d1, d2, vel, m1, m2                       []*Node

	normalized                 bool
	dirSq, d1Sq, d2Sq          *Node
	setDirSq, setD1Sq, setD2Sq func(*Node)
}

// loadState reads (creating them if needed) the variables of the kind: α,
// γ, g_{t−2} or d_{t−2} ("dir"), Δ_{t−1}, Δ_{t−2}, SGDN-HD's velocity,
// Adam's moments and the squared norms of the normalized rule (ref.State).
func (s *stepState) loadState() *optState {
	k := s.c.Kind
	st := &optState{normalized: s.c.Normalized && k.HasAlphaHypergradient()}
	st.alpha, st.setAlpha = scalarVar(s.oscope, s.g, VarAlpha, s.dtype, s.o.Initial(VarAlpha))
	if k.HasGamma() {
		st.gamma, st.setGamma = scalarVar(s.oscope, s.g, VarGamma, s.dtype, s.o.Initial(VarGamma))
	}
	if k.HasAlphaHypergradient() {
		st.dirVars, st.dir = s.buffers("dir")
	}
	if k == Momentum || k == HGD {
		st.d1Vars, st.d1 = s.buffers("delta1")
	}
	if k == HGD {
		st.d2Vars, st.d2 = s.buffers("delta2")
	}
	if k == SGDNHD {
		st.vVars, st.vel = s.buffers("v")
	}
	if k.IsAdam() {
		st.m1Vars, st.m1 = s.buffers("m1")
		st.m2Vars, st.m2 = s.buffers("m2")
	}
	return st
}

// guarded is the result of checkFinite: the hypergradients, the finiteness
// flag ok, the applied-step counter after this step and the sanitized
// gradients gs (zero on a skipped step).
type guarded struct {
	hA, hG, gg *Node
	ok         *Node
	step       *Node
	gs         []*Node
}

// sel keeps the old value on a skipped step.
func (gd *guarded) sel(newV, oldV *Node) *Node { return Where(gd.ok, newV, oldV) }

// checkFinite is the skip-on-non-finite guard (ref.Update's "Hypergradients
// and the finiteness check"): it computes the hypergradients h_α = g·d_{t−2}
// and h_γ = g·Δ_{t−2} (and |g|² for the normalized rule), decides whether
// the step is finite (for the HD kinds the hypergradients' finiteness is
// the gradient's; the others pay one dot product), counts the step as
// applied or skipped, and replaces the gradient by zeros on a skipped step.
// The steps after it use sel so that a skipped step changes nothing but
// the history (as ref does). It also creates the squared-norm variables of
// the normalized rule, in the order the original function did.
func (s *stepState) checkFinite(grad []*Node, st *optState) *guarded {
	k := s.c.Kind
	gd := &guarded{}
	switch {
	case k.HasAlphaHypergradient():
		gd.hA = dotAll(grad, st.dir)
		gd.ok = IsFinite(gd.hA)
		if k == HGD {
			gd.hG = dotAll(grad, st.d2)
			gd.ok = LogicalAnd(gd.ok, IsFinite(gd.hG))
		}
	case k == Momentum:
		gd.ok = IsFinite(dotAll(grad, st.d1))
	default:
		gd.ok = IsFinite(dotAll(grad, grad))
	}
	if st.normalized {
		gd.gg = dotAll(grad, grad)
		gd.ok = LogicalAnd(gd.ok, IsFinite(gd.gg))
	}
	okI := ConvertDType(gd.ok, dtypes.Int64)
	step, setStep := scalarVar(s.oscope, s.g, VarStep, dtypes.Int64, 0)
	gd.step = Add(step, okI)
	setStep(gd.step)
	skipped, setSkipped := scalarVar(s.oscope, s.g, VarSkipped, dtypes.Int64, 0)
	setSkipped(Add(skipped, Sub(OnesLike(okI), okI)))
	if st.normalized {
		st.dirSq, st.setDirSq = scalarVar(s.oscope, s.g, VarDirSq, s.dtype, 0)
		if k == HGD {
			st.d1Sq, st.setD1Sq = scalarVar(s.oscope, s.g, VarDelta1Sq, s.dtype, 0)
			st.d2Sq, st.setD2Sq = scalarVar(s.oscope, s.g, VarDelta2Sq, s.dtype, 0)
		}
	}
	gd.gs = make([]*Node, len(grad))
	for i := range grad {
		gd.gs[i] = Where(gd.ok, grad[i], s.zero)
	}
	return gd
}

// smoothed is the HyperEMA transform (ref.SmoothHypergradient) of the
// hypergradient h whose average lives in the variable name: it returns the
// bias-corrected average the step uses and keeps the new average (the old
// one on a skipped step). Without HyperEMA it returns h.
func (s *stepState) smoothed(name string, h *Node, gd *guarded) *Node {
	rho := s.c.HyperEMA
	if rho == 0 {
		return h
	}
	m, setM := scalarVar(s.oscope, s.g, name, s.dtype, 0)
	mNew := Add(Mul(s.scalar(rho), m), Mul(s.scalar(1-rho), h))
	setM(gd.sel(mNew, m))
	n := ConvertDType(gd.step, s.dtype)
	return Div(mNew, Sub(s.scalar(1), Pow(s.scalar(rho), n)))
}

// decayed is the HyperDecay schedule (ref.DecayedRate) of the step size
// rate at this step: rate·τ/(τ + n − 1), n the applied steps including this
// one. Without HyperDecay it returns rate.
func (s *stepState) decayed(rate *Node, gd *guarded) *Node {
	tau := s.c.HyperDecay
	if tau == 0 {
		return rate
	}
	n := ConvertDType(gd.step, s.dtype)
	return Div(Mul(rate, s.scalar(tau)), Add(s.scalar(tau), Sub(n, s.scalar(1))))
}

// cosine is h/√(aa·bb), 0 where the denominator is 0 (ref's cosine).
func cosine(h, aa, bb *Node) *Node {
	zero, one := ScalarZero(h.Graph(), h.DType()), ScalarOne(h.Graph(), h.DType())
	den := Sqrt(Mul(aa, bb))
	positive := GreaterThan(den, zero)
	return Where(positive, Div(h, Where(positive, den, one)), zero)
}

// project clamps x into [lo, hi] unless c.Unbounded.
func project(c Config, x *Node, lo, hi float64) *Node {
	if c.Unbounded {
		return x
	}
	return Max(Scalar(x.Graph(), x.DType(), lo), Min(Scalar(x.Graph(), x.DType(), hi), x))
}

// nextAlpha is the hypergradient update of α with its projection
// (ref.NextAlpha): α + β·h_α, or α·(1 + β·cos(g, d_{t−2})) with the
// normalized rule (gg = |g|², dirSq = |d_{t−2}|²), projected into
// [AlphaMin, AlphaMax].
func nextAlpha(c Config, alpha, beta, hA, gg, dirSq *Node) *Node {
	return hyperStep(c, alpha, beta, hA, gg, dirSq, c.AlphaMin, c.AlphaMax)
}

// nextGamma is HGD's hypergradient update of γ with its projection
// (ref.NextGamma): γ − η·h_γ, or γ·(1 − η·cos(g, Δ_{t−2})) with the
// normalized rule, projected into [0, GammaMax]. It is hyperStep of −h_γ,
// bit for bit: negation is exact, and x + (−y) = x − y in IEEE arithmetic.
func nextGamma(c Config, gamma, eta, hG, gg, d2Sq *Node) *Node {
	return hyperStep(c, gamma, eta, Neg(hG), gg, d2Sq, 0, c.GammaMax)
}

// hyperStep moves x up its hypergradient h at rate: x + rate·h, or with the
// normalized rule x·(1 + rate·h/√(gg·sq)) (the cosine; 0 when gg·sq is 0),
// projected into [lo, hi].
func hyperStep(c Config, x, rate, h, gg, sq *Node, lo, hi float64) *Node {
	var y *Node
	if c.Normalized {
		y = Mul(x, Add(ScalarOne(x.Graph(), x.DType()), Mul(rate, cosine(h, gg, sq))))
	} else {
		y = Add(x, Mul(rate, h))
	}
	return project(c, y, lo, hi)
}
