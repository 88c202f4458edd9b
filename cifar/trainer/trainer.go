// Package trainer trains one configuration of the paper's CNNs on CIFAR: it
// is the hpo.Trainable that the HPO runner drives, and what
// "hgdtune train" runs.
//
// A Trainer owns a GoMLX store (the network's weights, the optimizer's state,
// the dropout RNG) and two compiled graphs: the training step (forward, loss,
// gradients and the optimizer update, in one execution) and the evaluation
// (logits → correct count and summed loss, no dropout). Batches come from a
// cifar.Batcher seeded by Config.Seed; the weights are initialized from the
// same seed, so a configuration and a seed determine the whole run on the
// pure-Go backend.
//
// # Budgets
//
// Train(ctx, until) trains until the cumulative budget `until`, counted in
// Config.Unit (steps by default, or epochs of the training subset), then
// evaluates on the validation subset. Wall-clock budgets are the caller's:
// cancel ctx and Train returns ctx.Err() between two steps.
//
// # Checkpoints
//
// Save writes every variable of the store (trainable and not: weights, α, γ,
// g_{t−2}, Δ_{t−1}, Δ_{t−2}, moments, step counters, the RNG state) as raw
// bytes, and the trainer's own state (steps, batcher position and RNG) as
// JSON. Restoring into a freshly built Trainer of the same configuration and
// training on gives bit-identical parameters to training without the
// interruption (on the pure-Go backend; tested).
//
// A Run with a checkpoint folder (RunConfig.Checkpoint; "hgdtune train
// -checkpoint") keeps its checkpoint in the folder's current/, replaced
// atomically at each save. A checkpoint whose files lie directly in the
// folder (LegacyCheckpointFiles) is restored too; the first save moves it
// to current/.
//
// # Divergence
//
// A step whose loss is NaN or ±Inf fails with ErrDiverged; the Trainer is
// unusable afterwards, the process is not affected. (The optimizers of
// package hgd already skip steps whose gradient is not finite; a
// non-finite loss means the weights themselves have blown up.)
package trainer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX's graph DSL
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/loss"

	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/nn"
)

// Errors.
var (
	// ErrConfig wraps every configuration error.
	ErrConfig = errors.New("trainer: invalid configuration")
	// ErrDiverged is returned when the training loss is not finite.
	ErrDiverged = errors.New("trainer: training diverged (non-finite loss)")
	// ErrClosed is returned by a Trainer after Close or after it diverged.
	ErrClosed = errors.New("trainer: trainer is closed")
	// ErrCheckpoint wraps errors reading a checkpoint.
	ErrCheckpoint = fmt.Errorf("trainer: bad checkpoint (%w)", hpo.ErrCheckpointData)
)

// Data is what a Trainer trains and evaluates on.
type Data struct {
	Train, Val *cifar.Subset
	// Norm normalizes every image (compute it on Train).
	Norm cifar.Normalization
}

// SplitData is the paper's protocol on a training set: the class-stratified
// split (cfg; 70/30 by default) and the per-channel normalization computed
// on the training part.
func SplitData(d *cifar.Dataset, cfg cifar.SplitConfig) (Data, error) {
	tr, val, err := cifar.Split(d, cfg)
	if err != nil {
		return Data{}, err
	}
	return Data{Train: tr, Val: val, Norm: cifar.ComputeNormalization(tr)}, nil
}

func (d Data) validate(classes int) error {
	if d.Train == nil || d.Val == nil || d.Train.Len() == 0 || d.Val.Len() == 0 {
		return fmt.Errorf("%w: empty training or validation data", ErrConfig)
	}
	if n := len(d.Train.Data.Classes); n != classes && n != 0 {
		return fmt.Errorf("%w: the network has %d classes, the data %d", ErrConfig, classes, n)
	}
	return d.Norm.Validate()
}

// Trainer trains one configuration. It is not safe for concurrent use.
type Trainer struct {
	cfg     Config
	data    Data
	backend compute.Backend
	store   *model.Store
	opt     *hgd.Optimizer
	step    *model.Exec
	eval    *model.Exec
	batcher *cifar.Batcher
	batch   cifar.Batch

	steps     int     // optimizer steps taken (applied or skipped)
	lossSum   float64 // training losses since the last result
	lossN     int     // … and their count
	evalBuf   cifar.Batch
	closed    bool
	started   time.Time // for log timestamps
	trainTime time.Duration
}

// New builds a Trainer (compiling happens at the first step). The backend
// is shared, not owned: Close does not finalize it. A cfg.Net.Impl left
// nn.Auto becomes ImplFor(be) (Config returns the resolved one).
func New(be compute.Backend, data Data, cfg Config) (*Trainer, error) {
	cfg, err := cfg.resolve(be, data)
	if err != nil {
		return nil, err
	}
	b, err := cifar.NewBatcher(data.Train, data.Norm, cifar.BatcherConfig{
		BatchSize: cfg.BatchSize, Augment: cfg.Augment, Seed: cfg.Seed,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	t := &Trainer{cfg: cfg, data: data, backend: be, batcher: b, store: model.NewStore(),
		opt: hgd.New(cfg.Optimizer), started: time.Now()}
	t.store.SetParam(model.ParamInitialSeed, int64(cfg.Seed))

	net := cfg.Net.Model()
	t.step, err = model.NewExec(be, t.store, func(scope *model.Scope, images, labels *Node) *Node {
		g := images.Graph()
		scope.Store().SetTraining(g, true)
		logits := net(scope.In("model"), images)
		l := loss.SparseCategoricalCrossEntropyLogits([]*Node{labels}, []*Node{logits})
		t.opt.UpdateGraph(scope, g, l)
		return l
	})
	if err != nil {
		return nil, fmt.Errorf("trainer: building the training step: %w", err)
	}
	t.eval, err = model.NewExec(be, t.store, func(scope *model.Scope, images, labels *Node) []*Node {
		scope = scope.In("model")
		nn.Inference(scope, images.Graph()) // the weights as they are at each call
		logits := net(scope, images)
		pred := ArgMax(logits, -1)
		correct := ReduceAllSum(ConvertDType(Equal(pred, ConvertDType(Reshape(labels, -1), pred.DType())), logits.DType()))
		l := loss.SparseCategoricalCrossEntropyLogits([]*Node{labels}, []*Node{logits})
		return []*Node{correct, MulScalar(l, float64(images.Shape().Dimensions[0]))}
	})
	if err != nil {
		t.step.Finalize()
		return nil, fmt.Errorf("trainer: building the evaluation: %w", err)
	}
	return t, nil
}

// resolve validates c for a trainer on be and data and returns it as the
// trainer holds it: defaults filled in, an nn.Auto layer implementation
// resolved for be (New and Reconfigure both use it).
func (c Config) resolve(be compute.Backend, data Data) (Config, error) {
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	c = c.withDefaults()
	if c.Net.Impl == nn.Auto {
		c.Net.Impl = ImplFor(be)
	}
	if err := data.validate(c.Net.Case.Classes()); err != nil {
		return Config{}, err
	}
	if c.BatchSize > data.Train.Len() {
		return Config{}, fmt.Errorf("%w: batch size %d > %d training images", ErrConfig, c.BatchSize, data.Train.Len())
	}
	return c, nil
}

// ImplFor is the layer implementation New picks for a backend: nn.ForBackend
// of the backend's own name (compute.Backend.Name, e.g. "xla"; the pure-Go
// backend calls itself "Go Backend"), matched without regard to case.
func ImplFor(be compute.Backend) nn.Impl {
	if be == nil {
		return nn.Im2Col
	}
	return nn.ForBackend(strings.ToLower(be.Name()))
}

// Config returns the trainer's configuration with defaults filled in.
func (t *Trainer) Config() Config { return t.cfg }

// Store is the GoMLX store holding the variables (for inspection).
func (t *Trainer) Store() *model.Store { return t.store }

// Steps returns the number of optimizer steps taken.
func (t *Trainer) Steps() int { return t.steps }

// Epochs returns the number of passes over the training subset so far.
func (t *Trainer) Epochs() float64 {
	return float64(t.steps) / float64(t.batcher.StepsPerEpoch())
}

// StepsPerEpoch is the number of steps of one pass over the training subset.
func (t *Trainer) StepsPerEpoch() int { return t.batcher.StepsPerEpoch() }

// Alpha and Gamma return the current learning rate and momentum (before
// the first step: their initial values; γ is 0 for kinds without
// momentum). A variable that cannot be read gives NaN.
func (t *Trainer) Alpha() float64 { return t.current(hgd.VarAlpha) }

// Gamma: see Alpha.
func (t *Trainer) Gamma() float64 { return t.current(hgd.VarGamma) }

func (t *Trainer) current(name string) float64 {
	v, err := t.opt.Current(t.store, name)
	if err != nil {
		return math.NaN()
	}
	return v
}

// Step trains on one mini-batch and returns its loss.
func (t *Trainer) Step() (float64, error) {
	if t.closed {
		return 0, ErrClosed
	}
	start := time.Now()
	t.batcher.NextInto(&t.batch)
	n := t.batch.Size
	images := tensors.FromFlatDataAndDimensions(t.batch.Images, n, cifar.ImageHeight, cifar.ImageWidth, cifar.ImageChannels)
	labels := tensors.FromFlatDataAndDimensions(t.batch.Labels, n, 1)
	out, err := t.step.Call1(images, labels)
	if err != nil {
		return 0, fmt.Errorf("trainer: step %d: %w", t.steps+1, err)
	}
	l := scalarOf(out)
	t.steps++
	t.trainTime += time.Since(start)
	if math.IsNaN(l) || math.IsInf(l, 0) {
		t.closed = true
		lerr := t.logEvent(map[string]any{"event": "diverged", "step": t.steps, "loss": fmt.Sprint(l)})
		return l, errors.Join(fmt.Errorf("%w at step %d", ErrDiverged, t.steps), lerr)
	}
	t.lossSum += l
	t.lossN++
	if t.cfg.Log != nil {
		if err := t.logEvent(map[string]any{"event": "step", "step": t.steps, "loss": l,
			"alpha": t.Alpha(), "gamma": t.Gamma()}); err != nil {
			return l, err
		}
	}
	return l, nil
}

// Eval is the result of an evaluation.
type Eval struct {
	Accuracy, Loss float64
	N              int // images evaluated
}

// Evaluate computes accuracy and mean loss on the validation subset (or
// its first EvalLimit images).
func (t *Trainer) Evaluate(ctx context.Context) (Eval, error) {
	if t.closed {
		return Eval{}, ErrClosed
	}
	n := t.data.Val.Len()
	if t.cfg.EvalLimit > 0 {
		n = min(n, t.cfg.EvalLimit)
	}
	var correct, lossSum float64
	for start := 0; start < n; start += t.cfg.EvalBatch {
		if err := ctx.Err(); err != nil {
			return Eval{}, err
		}
		end := min(start+t.cfg.EvalBatch, n)
		if err := t.data.Val.Batch(start, end, t.data.Norm, &t.evalBuf); err != nil {
			return Eval{}, err
		}
		b := &t.evalBuf
		images := tensors.FromFlatDataAndDimensions(b.Images, b.Size, cifar.ImageHeight, cifar.ImageWidth, cifar.ImageChannels)
		labels := tensors.FromFlatDataAndDimensions(b.Labels, b.Size, 1)
		c, l, err := t.eval.Call2(images, labels)
		if err != nil {
			return Eval{}, fmt.Errorf("trainer: evaluation: %w", err)
		}
		correct += scalarOf(c)
		lossSum += scalarOf(l)
	}
	e := Eval{Accuracy: correct / float64(n), Loss: lossSum / float64(n), N: n}
	if t.cfg.Log != nil {
		if err := t.logEvent(map[string]any{"event": "eval", "step": t.steps, "epochs": t.Epochs(),
			"accuracy": e.Accuracy, "loss": finiteOr(e.Loss), "alpha": t.Alpha(), "gamma": t.Gamma()}); err != nil {
			return e, err
		}
	}
	return e, nil
}

// budgetSteps converts a cumulative budget into a step count.
func (t *Trainer) budgetSteps(until int) int {
	if t.cfg.Unit == Epochs {
		return until * t.batcher.StepsPerEpoch()
	}
	return until
}

// Train trains until the cumulative budget (see Config.Unit), evaluates and
// returns the result: validation accuracy and loss, the mean training loss
// since the previous result, α, γ, steps, epochs and skipped steps.
func (t *Trainer) Train(ctx context.Context, until int) (hpo.Result, error) {
	if t.closed {
		return hpo.Result{}, ErrClosed
	}
	target := t.budgetSteps(until)
	for t.steps < target {
		if err := ctx.Err(); err != nil {
			return hpo.Result{}, err
		}
		if _, err := t.Step(); err != nil {
			return hpo.Result{}, err
		}
	}
	e, err := t.Evaluate(ctx)
	if err != nil {
		return hpo.Result{}, err
	}
	return hpo.Result{Budget: until, Metrics: t.metrics(e)}, nil
}

func (t *Trainer) metrics(e Eval) map[string]float64 {
	m := map[string]float64{
		MetricAccuracy: e.Accuracy,
		MetricLoss:     e.Loss,
		MetricAlpha:    t.Alpha(),
		MetricGamma:    t.Gamma(),
		MetricSteps:    float64(t.steps),
		MetricEpochs:   t.Epochs(),
	}
	if t.lossN > 0 {
		m[MetricTrainLoss] = t.lossSum / float64(t.lossN)
	}
	t.lossSum, t.lossN = 0, 0
	if s, err := hgd.Skipped(t.store); err == nil {
		m[MetricSkipped] = float64(s)
	}
	return m
}

// ResetAdaptedHyperparameters sets the learning rate α and the momentum γ
// back to their initial values (Config.Optimizer's Alpha0 and Gamma0),
// keeping the weights and the rest of the optimizer's state. Restore calls
// it after loading another trial's checkpoint under the ResetAdapted
// policy (Config.OnExploit).
func (t *Trainer) ResetAdaptedHyperparameters() error {
	if t.closed {
		return ErrClosed
	}
	if err := t.opt.Set(t.store, hgd.VarAlpha, t.opt.Initial(hgd.VarAlpha)); err != nil {
		return err
	}
	if t.cfg.Optimizer.Kind.HasGamma() {
		return t.opt.Set(t.store, hgd.VarGamma, t.opt.Initial(hgd.VarGamma))
	}
	return nil
}

// applyFixedHyperparameters sets the optimizer variables that hold
// hyperparameters of this trainer's configuration which its optimizer does
// not adapt: α for the kinds without an α hypergradient, γ for the kinds
// with a fixed momentum (Momentum, SGDN-HD), β and η. Restore calls it, so
// that after a checkpoint of another trial is loaded (a PBT exploit) the
// trainer trains with its own — the explored — configuration, not the
// donor's. The adapted α and γ are state, not configuration: Restore keeps
// the checkpoint's (ResetAdaptedHyperparameters resets them). Variables
// that do not exist yet are created from the configuration anyway.
func (t *Trainer) applyFixedHyperparameters() error {
	k := t.cfg.Optimizer.Kind
	set := func(name string) error {
		err := t.opt.Set(t.store, name, t.opt.Initial(name))
		if errors.Is(err, hgd.ErrNoVariable) {
			return nil
		}
		return err
	}
	if !k.HasAlphaHypergradient() {
		if err := set(hgd.VarAlpha); err != nil {
			return err
		}
	}
	if k.HasGamma() && k != hgd.HGD {
		if err := set(hgd.VarGamma); err != nil {
			return err
		}
	}
	if k.HasAlphaHypergradient() {
		if err := set(hgd.VarBeta); err != nil {
			return err
		}
	}
	if k == hgd.HGD {
		return set(hgd.VarEta)
	}
	return nil
}

// Close releases the compiled graphs and the variables. The Trainer is not
// usable afterwards; the backend is not finalized.
func (t *Trainer) Close() error {
	t.closed = true
	if t.step != nil {
		t.step.Finalize()
		t.step = nil
	}
	if t.eval != nil {
		t.eval.Finalize()
		t.eval = nil
	}
	if t.store != nil {
		t.store.Finalize()
	}
	return nil
}

// logEvent writes ev as one line of the log (Config.Log). A line that
// cannot be encoded or written is an error of the step or evaluation that
// logged it: training does not go on with a log that lost lines.
func (t *Trainer) logEvent(ev map[string]any) error {
	if t.cfg.Log == nil {
		return nil
	}
	ev["time"] = time.Since(t.started).Seconds()
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("trainer: encoding a log line: %w", err)
	}
	if _, err := t.cfg.Log.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("trainer: writing the log at step %d: %w", t.steps, err)
	}
	return nil
}

func finiteOr(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	return v
}

// scalarOf reads a scalar tensor of any float dtype as float64.
func scalarOf(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	case int32:
		return float64(v)
	case int64:
		return float64(v)
	}
	return math.NaN()
}

var _ hpo.Trainable = (*Trainer)(nil)
