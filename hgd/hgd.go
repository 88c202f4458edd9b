package hgd

import (
	"errors"
	"fmt"
	"path"

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
	VarMAlpha   = "m_alpha"   // average of h_alpha (Config.HyperEMA)
	VarMGamma   = "m_gamma"   // average of h_gamma (Config.HyperEMA)
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
