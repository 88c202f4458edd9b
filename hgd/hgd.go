package hgd

import (
	"errors"
	"fmt"
	"path"
	"sort"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX's graph DSL
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/hgdtune/hgdtune/hgd/ref"
)

// Kind names one of the optimizers; it is ref.Kind.
type Kind = ref.Kind

// The optimizers (see package ref for their exact definitions).
const (
	HGD      = ref.HGD      // α and γ adapted by hypergradient descent (Seifi & Niaki)
	SGD      = ref.SGD      // plain SGD
	Momentum = ref.Momentum // SGD with heavy-ball momentum (the paper's "SGD" arm)
	SGDHD    = ref.SGDHD    // Baydin et al.'s SGD-HD
	SGDNHD   = ref.SGDNHD   // Baydin et al.'s SGDN-HD (Nesterov, fixed μ = γ0)
	AdamHD   = ref.AdamHD   // Baydin et al.'s Adam-HD
	Adam     = ref.Adam     // Adam with L2 weight decay in the gradient
)

// Config is an optimizer's complete configuration; it is ref.Config. Every
// field is used as it is (zero means zero): start from Defaults and change
// what differs.
//
// Alpha0, Gamma0, Beta and Eta only give the initial values of the variables
// VarAlpha, VarGamma, VarBeta and VarEta: once those exist (after the first
// graph is built, or after a checkpoint is restored), change them with Set,
// which needs no recompilation. The other fields are compiled into the graph.
type Config = ref.Config

// Defaults returns kind's configuration with every hyperparameter at its
// default (ref.Defaults).
func Defaults(kind Kind) Config { return ref.Defaults(kind) }

// DefaultScope is the absolute scope (in the model.Store) holding the
// optimizer's variables, unless changed with Optimizer.WithScope.
const DefaultScope = "hgd"

// Names of the scalar variables in the optimizer's scope. All are
// non-trainable; VarStep and VarSkipped are int64, the others have the
// dtype of the loss. Per-parameter buffers live in sub-scopes that mirror
// the parameters' own scopes, named "<param>_dir" (g_{t−2} or d_{t−2}),
// "<param>_delta1", "<param>_delta2", "<param>_v", "<param>_m1", "<param>_m2".
const (
	VarAlpha    = "alpha"     // current α (learning rate)
	VarGamma    = "gamma"     // current γ (momentum)
	VarBeta     = "beta"      // β, settable at run time
	VarEta      = "eta"       // η, settable at run time
	VarStep     = "step"      // applied steps
	VarSkipped  = "skipped"   // skipped (non-finite) steps
	VarHAlpha   = "h_alpha"   // last hypergradient g_{t−1}·d_{t−2}
	VarHGamma   = "h_gamma"   // last hypergradient g_{t−1}·Δ_{t−2}
	VarDirSq    = "dir_sq"    // |d_{t−2}|² (normalized rule)
	VarDelta1Sq = "delta1_sq" // |Δ_{t−1}|² (normalized rule)
	VarDelta2Sq = "delta2_sq" // |Δ_{t−2}|² (normalized rule)
)

// ErrNoVariable is returned by Read and Set when the optimizer's variable
// does not exist yet (no training graph was built and no checkpoint loaded).
var ErrNoVariable = errors.New("hgd: optimizer variable does not exist yet")

// Optimizer implements optimizer.Interface (and train.OptimizeWithGradients)
// for all the kinds of package ref. Create it with New.
type Optimizer struct {
	cfg       Config
	scopeName string
}

var _ optimizer.Interface = (*Optimizer)(nil)

// New returns an optimizer with the configuration cfg (typically
// Defaults(kind) with some fields changed), its variables under
// DefaultScope. New does not check cfg: building the graph panics with the
// error of cfg.Validate, so validate a configuration from a user first.
func New(cfg Config) *Optimizer { return &Optimizer{cfg: cfg, scopeName: DefaultScope} }

// reader is an Optimizer for reading the variables of DefaultScope.
func reader() *Optimizer { return &Optimizer{scopeName: DefaultScope} }

// WithScope changes the (absolute) scope of the optimizer's variables, e.g.
// to use two optimizers on one store. It returns the optimizer.
func (o *Optimizer) WithScope(name string) *Optimizer {
	o.scopeName = name
	return o
}

// Kind returns the optimizer's kind.
func (o *Optimizer) Kind() Kind { return o.cfg.Kind }

// Config returns the optimizer's configuration, as given to New.
func (o *Optimizer) Config() Config { return o.cfg }

// Scope returns the optimizer's scope (absolute path).
func (o *Optimizer) Scope() string { return path.Join("/", o.scopeName) }

// Initial returns the value the optimizer creates the scalar variable name
// with: Alpha0 for VarAlpha, Gamma0 for VarGamma (0 for kinds without
// momentum), Beta for VarBeta and Eta for VarEta (0 for kinds that do not
// adapt α, γ), and 0 for the other variables.
func (o *Optimizer) Initial(name string) float64 {
	c, k := o.cfg, o.cfg.Kind
	switch {
	case name == VarAlpha:
		return c.Alpha0
	case name == VarGamma && k.HasGamma():
		return c.Gamma0
	case name == VarBeta && k.HasAlphaHypergradient():
		return c.Beta
	case name == VarEta && k == HGD:
		return c.Eta
	}
	return 0
}

// Current returns the value of one of the optimizer's scalar variables, or,
// before the variable exists (no graph built, no checkpoint loaded), the
// value it will be created with (Initial). Other errors are those of Read.
func (o *Optimizer) Current(store model.StoreProvider, name string) (float64, error) {
	v, err := o.Read(store, name)
	if errors.Is(err, ErrNoVariable) {
		return o.Initial(name), nil
	}
	return v, err
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	}
	return 0, fmt.Errorf("want a float64, got %T", v)
}

// UpdateGraph builds the gradients of the loss and the update of one
// training step. It implements optimizer.Interface; it panics on error, as
// graph-building functions do.
func (o *Optimizer) UpdateGraph(scope *model.Scope, g *Graph, loss *Node) {
	_ = g
	if !loss.Shape().IsScalar() {
		exceptions.Panicf("hgd: the loss must be a scalar, got %s", loss.Shape())
	}
	grads := scope.BuildTrainableVariablesGradientsGraph(loss)
	o.UpdateGraphWithGradients(scope, grads, loss.DType())
}

// Clear deletes the optimizer's variables (its state and run-time
// hyperparameters). It implements optimizer.Interface.
func (o *Optimizer) Clear(scope *model.Scope) error {
	return scope.Store().DeleteVariablesInScope(o.Scope())
}

// scalarVar returns the node of a scalar variable in dtype, creating the
// variable with initial value init if needed, and a setter that converts
// back to the variable's own dtype.
func scalarVar(s *model.Scope, g *Graph, name string, dtype dtypes.DType, init float64) (*Node, func(*Node)) {
	v := s.VariableWithValue(name, shapes.CastAsDType(init, dtype)).SetTrainable(false)
	n := v.NodeValue(g)
	vdt := n.DType()
	if vdt != dtype {
		n = ConvertDType(n, dtype)
	}
	return n, func(x *Node) {
		if x.DType() != vdt {
			x = ConvertDType(x, vdt)
		}
		v.SetNodeValue(x)
	}
}

// buffer returns the per-parameter state variable <param>_<suffix>.
func (o *Optimizer) buffer(store *model.Store, p *model.Variable, suffix string, dtype dtypes.DType) *model.Variable {
	shape := p.Shape().Clone()
	shape.DType = dtype
	return store.Scope(path.Join(o.Scope(), p.Scope())).
		WithInitializer(initializer.Zero).
		VariableWithShape(p.Name()+"_"+suffix, shape).
		SetTrainable(false)
}

// dotAll is Σ_i a_i·b_i over all tensors, each flattened: one scalar.
func dotAll(a, b []*Node) *Node {
	var sum *Node
	for i := range a {
		d := Dot(Reshape(a[i], -1), Reshape(b[i], -1)).Product()
		if sum == nil {
			sum = d
		} else {
			sum = Add(sum, d)
		}
	}
	return sum
}

// UpdateGraphWithGradients builds one step from given gradients (it
// implements train.OptimizeWithGradients). The update is the one of
// ref.Update, in the dtype of the loss.
func (o *Optimizer) UpdateGraphWithGradients(scope *model.Scope, grads []*Node, lossDType dtypes.DType) {
	if len(grads) == 0 {
		exceptions.Panicf("hgd: no gradients: are there any trainable variables?")
	}
	c := o.cfg
	if err := c.Validate(); err != nil {
		panic(err)
	}
	g := grads[0].Graph()
	dtype := lossDType
	k := c.Kind

	var params []*model.Variable
	for v := range scope.IterVariables() {
		if v.Trainable && v.InUseByGraph(g) {
			params = append(params, v)
		}
	}
	if len(params) != len(grads) {
		exceptions.Panicf("hgd: %d gradients but %d trainable variables in use", len(grads), len(params))
	}
	// Work in the order of the variables' paths, not of their creation: the
	// sums over all parameters (the hypergradient dot products) then round
	// the same way whether the variables were created by the model or
	// restored from a checkpoint, which keeps resumed runs bit-identical.
	order := make([]int, len(params))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return params[order[a]].Path() < params[order[b]].Path() })
	sortedParams, sortedGrads := make([]*model.Variable, len(params)), make([]*Node, len(grads))
	for i, j := range order {
		sortedParams[i], sortedGrads[i] = params[j], grads[j]
	}
	params, grads = sortedParams, sortedGrads
	_ = optimizer.IncrementGlobalStep(g, dtype)

	store := scope.Store()
	oscope := store.Scope(o.Scope())
	scalar := func(v float64) *Node { return Scalar(g, dtype, v) }
	zero, one := scalar(0), scalar(1)

	theta := make([]*Node, len(params))
	grad := make([]*Node, len(params))
	for i, p := range params {
		theta[i] = p.NodeValue(g)
		if theta[i].DType() != dtype {
			theta[i] = ConvertDType(theta[i], dtype)
		}
		grad[i] = grads[i]
		if grad[i].DType() != dtype {
			grad[i] = ConvertDType(grad[i], dtype)
		}
		if c.WeightDecay != 0 {
			grad[i] = Add(grad[i], MulScalar(theta[i], c.WeightDecay))
		}
	}
	bufs := func(suffix string) ([]*model.Variable, []*Node) {
		vs := make([]*model.Variable, len(params))
		ns := make([]*Node, len(params))
		for i, p := range params {
			vs[i] = o.buffer(store, p, suffix, dtype)
			ns[i] = vs[i].NodeValue(g)
		}
		return vs, ns
	}

	// State.
	alpha, setAlpha := scalarVar(oscope, g, VarAlpha, dtype, o.Initial(VarAlpha))
	var gamma *Node
	var setGamma func(*Node)
	if k.HasGamma() {
		gamma, setGamma = scalarVar(oscope, g, VarGamma, dtype, o.Initial(VarGamma))
	}
	var dirVars, d1Vars, d2Vars, vVars, m1Vars, m2Vars []*model.Variable
	var dir, d1, d2, vel, m1, m2 []*Node
	if k.HasAlphaHypergradient() {
		dirVars, dir = bufs("dir")
	}
	if k == Momentum || k == HGD {
		d1Vars, d1 = bufs("delta1")
	}
	if k == HGD {
		d2Vars, d2 = bufs("delta2")
	}
	if k == SGDNHD {
		vVars, vel = bufs("v")
	}
	if k.IsAdam() {
		m1Vars, m1 = bufs("m1")
		m2Vars, m2 = bufs("m2")
	}
	normalized := c.Normalized && k.HasAlphaHypergradient()

	// Hypergradients and the finiteness check.
	var hA, hG, gg *Node
	var ok *Node
	switch {
	case k.HasAlphaHypergradient():
		hA = dotAll(grad, dir)
		ok = IsFinite(hA)
		if k == HGD {
			hG = dotAll(grad, d2)
			ok = LogicalAnd(ok, IsFinite(hG))
		}
	case k == Momentum:
		ok = IsFinite(dotAll(grad, d1))
	default:
		ok = IsFinite(dotAll(grad, grad))
	}
	if normalized {
		gg = dotAll(grad, grad)
		ok = LogicalAnd(ok, IsFinite(gg))
	}
	okI := ConvertDType(ok, dtypes.Int64)
	step, setStep := scalarVar(oscope, g, VarStep, dtypes.Int64, 0)
	step = Add(step, okI)
	setStep(step)
	skipped, setSkipped := scalarVar(oscope, g, VarSkipped, dtypes.Int64, 0)
	setSkipped(Add(skipped, Sub(OnesLike(okI), okI)))
	// sel keeps the old value on a skipped step.
	sel := func(newV, oldV *Node) *Node { return Where(ok, newV, oldV) }
	cosine := func(h, aa, bb *Node) *Node {
		den := Sqrt(Mul(aa, bb))
		positive := GreaterThan(den, zero)
		return Where(positive, Div(h, Where(positive, den, one)), zero)
	}
	clamp := func(x *Node, lo, hi float64) *Node {
		if c.Unbounded {
			return x
		}
		return Max(scalar(lo), Min(scalar(hi), x))
	}

	var setDirSq func(*Node)
	var dirSqOld, d1SqOld, d2SqOld *Node
	var setD1Sq, setD2Sq func(*Node)
	if normalized {
		dirSqOld, setDirSq = scalarVar(oscope, g, VarDirSq, dtype, 0)
		if k == HGD {
			d1SqOld, setD1Sq = scalarVar(oscope, g, VarDelta1Sq, dtype, 0)
			d2SqOld, setD2Sq = scalarVar(oscope, g, VarDelta2Sq, dtype, 0)
		}
	}

	// α.
	alphaNew := alpha
	if k.HasAlphaHypergradient() {
		beta, _ := scalarVar(oscope, g, VarBeta, dtype, o.Initial(VarBeta))
		if normalized {
			alphaNew = Mul(alpha, Add(one, Mul(beta, cosine(hA, gg, dirSqOld))))
		} else {
			alphaNew = Add(alpha, Mul(beta, hA))
		}
		alphaNew = clamp(alphaNew, c.AlphaMin, c.AlphaMax)
		hAOld, setHA := scalarVar(oscope, g, VarHAlpha, dtype, 0)
		setHA(sel(hA, hAOld))
	}
	setAlpha(sel(alphaNew, alpha))
	alphaUse := sel(alphaNew, zero)

	// γ.
	gammaNew := gamma
	if k == HGD {
		eta, _ := scalarVar(oscope, g, VarEta, dtype, o.Initial(VarEta))
		if normalized {
			gammaNew = Mul(gamma, Sub(one, Mul(eta, cosine(hG, gg, d2SqOld))))
		} else {
			gammaNew = Sub(gamma, Mul(eta, hG))
		}
		gammaNew = clamp(gammaNew, 0, c.GammaMax)
		hGOld, setHG := scalarVar(oscope, g, VarHGamma, dtype, 0)
		setHG(sel(hG, hGOld))
	}
	if k.HasGamma() {
		setGamma(sel(gammaNew, gamma))
	}

	// Sanitized gradients: zero on a skipped step, so nothing non-finite
	// reaches the parameters or the buffers.
	gs := make([]*Node, len(grad))
	for i := range grad {
		gs[i] = Where(ok, grad[i], zero)
	}
	newTheta := make([]*Node, len(params))
	switch k {
	case SGD, SGDHD:
		for i := range params {
			newTheta[i] = Sub(theta[i], Mul(alphaUse, gs[i]))
		}
		if k == SGDHD {
			for i := range params {
				dirVars[i].SetNodeValue(gs[i])
			}
			if normalized {
				setDirSq(sel(gg, zero))
			}
		}
	case Momentum, HGD:
		gammaUse := sel(gammaNew, zero)
		newD1 := make([]*Node, len(params))
		for i := range params {
			newD1[i] = Sub(Mul(gammaUse, d1[i]), Mul(alphaUse, gs[i]))
			newTheta[i] = Add(theta[i], newD1[i])
			d1Vars[i].SetNodeValue(newD1[i])
		}
		if k == HGD {
			for i := range params {
				d2Vars[i].SetNodeValue(d1[i])
				dirVars[i].SetNodeValue(gs[i])
			}
			if normalized {
				setDirSq(sel(gg, zero))
				setD2Sq(d1SqOld)
				setD1Sq(dotAll(newD1, newD1))
			}
		}
	case SGDNHD:
		muV := sel(gamma, one)
		muD := sel(gamma, zero)
		d := make([]*Node, len(params))
		for i := range params {
			v := Add(Mul(muV, vel[i]), gs[i])
			d[i] = Add(gs[i], Mul(muD, v))
			vVars[i].SetNodeValue(v)
			dirVars[i].SetNodeValue(d[i])
			newTheta[i] = Sub(theta[i], Mul(alphaUse, d[i]))
		}
		if normalized {
			setDirSq(dotAll(d, d))
		}
	case Adam, AdamHD:
		b1 := sel(scalar(c.AdamBeta1), one)
		b2 := sel(scalar(c.AdamBeta2), one)
		t := Max(ConvertDType(step, dtype), one)
		c1 := sel(Reciprocal(Sub(one, Pow(scalar(c.AdamBeta1), t))), zero)
		c2 := Reciprocal(Sub(one, Pow(scalar(c.AdamBeta2), t)))
		eps := scalar(c.AdamEps)
		d := make([]*Node, len(params))
		for i := range params {
			nm1 := Add(Mul(b1, m1[i]), Mul(Sub(one, b1), gs[i]))
			nm2 := Add(Mul(b2, m2[i]), Mul(Sub(one, b2), Mul(gs[i], gs[i])))
			m1Vars[i].SetNodeValue(nm1)
			m2Vars[i].SetNodeValue(nm2)
			d[i] = Div(Mul(nm1, c1), Add(Sqrt(Mul(nm2, c2)), eps))
			if k == AdamHD {
				dirVars[i].SetNodeValue(d[i])
			}
			newTheta[i] = Sub(theta[i], Mul(alphaUse, d[i]))
		}
		if normalized {
			setDirSq(dotAll(d, d))
		}
	default:
		exceptions.Panicf("hgd: unknown kind %v", k)
	}
	for i, p := range params {
		x := newTheta[i]
		if x.DType() != p.DType() {
			x = ConvertDType(x, p.DType())
		}
		p.SetNodeValue(x)
	}
}

// Read returns the current value of one of the optimizer's scalar
// variables (VarAlpha, VarGamma, VarStep, …) as a float64.
func (o *Optimizer) Read(store model.StoreProvider, name string) (float64, error) {
	v := store.Store().GetVariable(path.Join(o.Scope(), name))
	if v == nil {
		return 0, fmt.Errorf("%w: %s", ErrNoVariable, path.Join(o.Scope(), name))
	}
	t, err := v.Value()
	if err != nil {
		return 0, fmt.Errorf("hgd: reading %s: %w", v.Path(), err)
	}
	val, err := t.ValueSafe()
	if err != nil {
		return 0, fmt.Errorf("hgd: reading %s: %w", v.Path(), err)
	}
	return toFloat(val)
}

// Set changes one of the optimizer's scalar variables, typically VarAlpha,
// VarGamma, VarBeta or VarEta (what population-based training explores);
// the compiled graph reads it at the next step, no recompilation needed.
// The variable must exist (see ErrNoVariable).
func (o *Optimizer) Set(store model.StoreProvider, name string, value float64) error {
	v := store.Store().GetVariable(path.Join(o.Scope(), name))
	if v == nil {
		return fmt.Errorf("%w: %s", ErrNoVariable, path.Join(o.Scope(), name))
	}
	t, err := tensors.FromAnyValue(shapes.CastAsDType(value, v.DType()))
	if err != nil {
		return fmt.Errorf("hgd: setting %s: %w", v.Path(), err)
	}
	return v.SetValue(t)
}

// Alpha returns the current α of an optimizer in DefaultScope.
func Alpha(store model.StoreProvider) (float64, error) { return reader().Read(store, VarAlpha) }

// Gamma returns the current γ of an optimizer in DefaultScope.
func Gamma(store model.StoreProvider) (float64, error) { return reader().Read(store, VarGamma) }

// Skipped returns the number of skipped (non-finite) steps of an optimizer
// in DefaultScope.
func Skipped(store model.StoreProvider) (int64, error) {
	v, err := reader().Read(store, VarSkipped)
	return int64(v), err
}
