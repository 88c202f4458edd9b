package hgd

import (
	"sort"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX's graph DSL
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/support/exceptions"
)

// UpdateGraphWithGradients builds one step from given gradients (it
// implements train.OptimizeWithGradients). The update is the one of
// ref.Update, in the dtype of the loss, built as a chain of steps in the
// spirit of optax's transforms:
//
//	addWeightDecay → checkFinite (the skip-on-non-finite guard) →
//	[smoothed, decayed] → nextAlpha → nextGamma → the kind's direction and update
//	(sgdUpdate, momentumUpdate, nesterovUpdate, adamUpdate) → apply
//
// nextAlpha, nextGamma and the direction steps the updates wrap (sgdStep,
// momentumStep, nesterovStep, adamStep) are the graph forms of ref's
// NextAlpha, NextGamma, SGDStep, MomentumStep, NesterovStep and AdamStep,
// and each is tested against its ref function (steps_test.go). A skipped
// step runs the same chain on a zeroed gradient, with the scalars chosen
// so that the update is a no-op (see checkFinite and guarded.sel).
func (o *Optimizer) UpdateGraphWithGradients(scope *model.Scope, grads []*Node, lossDType dtypes.DType) {
	if len(grads) == 0 {
		exceptions.Panicf("hgd: no gradients: are there any trainable variables?")
	}
	c := o.cfg
	if err := c.Validate(); err != nil {
		panic(err)
	}
	g := grads[0].Graph()
	params, grads := trainedParams(scope, g, grads)
	_ = optimizer.IncrementGlobalStep(g, lossDType)
	s := o.newStepState(scope.Store(), g, params, lossDType)
	k := c.Kind

	theta := make([]*Node, len(params))
	grad := make([]*Node, len(params))
	for i, p := range params {
		theta[i] = s.convert(p.NodeValue(g))
		grad[i] = s.convert(grads[i])
	}
	grad = addWeightDecay(theta, grad, c.WeightDecay)

	st := s.loadState()
	gd := s.checkFinite(grad, st)

	alphaNew := st.alpha
	if k.HasAlphaHypergradient() {
		beta, _ := scalarVar(s.oscope, g, VarBeta, s.dtype, o.Initial(VarBeta))
		alphaNew = nextAlpha(c, st.alpha, s.decayed(beta, gd), s.smoothed(VarMAlpha, gd.hA, gd), gd.gg, st.dirSq)
		hAOld, setHA := scalarVar(s.oscope, g, VarHAlpha, s.dtype, 0)
		setHA(gd.sel(gd.hA, hAOld))
	}
	st.setAlpha(gd.sel(alphaNew, st.alpha))
	gammaNew := st.gamma
	if k == HGD {
		eta, _ := scalarVar(s.oscope, g, VarEta, s.dtype, o.Initial(VarEta))
		gammaNew = nextGamma(c, st.gamma, s.decayed(eta, gd), s.smoothed(VarMGamma, gd.hG, gd), gd.gg, st.d2Sq)
		hGOld, setHG := scalarVar(s.oscope, g, VarHGamma, s.dtype, 0)
		setHG(gd.sel(gd.hG, hGOld))
	}
	if k.HasGamma() {
		st.setGamma(gd.sel(gammaNew, st.gamma))
	}

	alphaUse := gd.sel(alphaNew, s.zero)
	var newTheta []*Node
	switch k {
	case SGD, SGDHD:
		newTheta = sgdUpdate(s, st, gd, theta, alphaUse)
	case Momentum, HGD:
		newTheta = momentumUpdate(s, st, gd, theta, alphaUse, gd.sel(gammaNew, s.zero))
	case SGDNHD:
		newTheta = nesterovUpdate(s, st, gd, theta, alphaUse)
	case Adam, AdamHD:
		newTheta = adamUpdate(s, st, gd, theta, alphaUse)
	default:
		exceptions.Panicf("hgd: unknown kind %v", k)
	}
	apply(params, newTheta)
}

// trainedParams returns the trainable variables the graph uses and their
// gradients, in the order of the variables' paths, not of their creation:
// the sums over all parameters (the hypergradient dot products) then round
// the same way whether the variables were created by the model or restored
// from a checkpoint, which keeps resumed runs bit-identical.
func trainedParams(scope *model.Scope, g *Graph, grads []*Node) ([]*model.Variable, []*Node) {
	var params []*model.Variable
	for v := range scope.IterVariables() {
		if v.Trainable && v.InUseByGraph(g) {
			params = append(params, v)
		}
	}
	if len(params) != len(grads) {
		exceptions.Panicf("hgd: %d gradients but %d trainable variables in use", len(grads), len(params))
	}
	order := make([]int, len(params))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return params[order[a]].Path() < params[order[b]].Path() })
	sortedParams, sortedGrads := make([]*model.Variable, len(params)), make([]*Node, len(grads))
	for i, j := range order {
		sortedParams[i], sortedGrads[i] = params[j], grads[j]
	}
	return sortedParams, sortedGrads
}

// addWeightDecay is the L2 transform g ← g + wd·θ (ref: the first lines of
// ref.Update); wd = 0 leaves the gradients as they are.
func addWeightDecay(theta, grad []*Node, wd float64) []*Node {
	if wd == 0 {
		return grad
	}
	out := make([]*Node, len(grad))
	for i := range grad {
		out[i] = Add(grad[i], MulScalar(theta[i], wd))
	}
	return out
}

// apply writes the new parameters, in each variable's own dtype.
func apply(params []*model.Variable, newTheta []*Node) {
	for i, p := range params {
		x := newTheta[i]
		if x.DType() != p.DType() {
			x = ConvertDType(x, p.DType())
		}
		p.SetNodeValue(x)
	}
}
