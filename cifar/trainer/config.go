package trainer

import (
	"fmt"
	"io"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hgd"
)

// Unit is what Train's budget counts.
type Unit int

const (
	// Steps counts optimizer steps (mini-batches).
	Steps Unit = iota
	// Epochs counts passes over the training subset.
	Epochs
)

func (u Unit) String() string {
	if u == Epochs {
		return "epochs"
	}
	return "steps"
}

// Metric names of the results Train returns.
const (
	MetricAccuracy  = "accuracy"   // validation accuracy in [0, 1]
	MetricLoss      = "loss"       // validation mean cross-entropy
	MetricTrainLoss = "train_loss" // mean training loss since the previous result
	MetricAlpha     = "alpha"      // current learning rate α
	MetricGamma     = "gamma"      // current momentum γ
	MetricSteps     = "steps"      // optimizer steps so far
	MetricEpochs    = "epochs"     // epochs so far (steps × batch / train size)
	MetricSkipped   = "skipped"    // steps skipped for non-finite gradients
)

// Defaults of Config.
const (
	// DefaultBatchSize is the training batch size of a Config that leaves
	// it 0, and hgdtune train's -batch default. (A cifar.Batcher used on
	// its own has its own default, cifar.DefaultBatcherBatchSize.)
	DefaultBatchSize = 32
	// DefaultEvalBatch is the evaluation batch size of a Config that
	// leaves it 0.
	DefaultEvalBatch = 500
)

// Config configures a Trainer. The zero value with a valid Net trains with
// HGD at its default hyperparameters (hgd.Defaults(hgd.HGD)), batch 32, no
// augmentation, seed 0, budgets in steps.
type Config struct {
	// Net is the network (required). Its Impl may be left nn.Auto (the
	// zero value): New then picks the layer implementation from the backend
	// it is given (nn.ForBackend of the backend's name: the standard ops on
	// XLA, im2col elsewhere). Set it to nn.Standard or nn.Im2Col to force
	// one, e.g. to compare the two on one backend.
	Net cnn.Config
	// BatchSize is the training batch size (default DefaultBatchSize).
	BatchSize int
	// Optimizer is the optimizer's complete configuration, used as it is
	// (zero means zero): start from hgd.Defaults(hgd.HGD) (α and γ adapted)
	// or hgd.Defaults(hgd.Momentum) (the paper's "SGD" arm: fixed α and γ;
	// any other kind of package hgd works too) and set what differs, e.g.
	// Alpha0 (the fixed α of SGD+momentum, or α0 of HGD), Gamma0 (the fixed
	// γ, or γ0), Beta and Eta (the hypergradient step sizes), WeightDecay
	// and Normalized. Only the zero hgd.Config as a whole, which could not
	// train (α would stay 0), stands for hgd.Defaults(hgd.HGD).
	Optimizer hgd.Config
	// OnExploit is what Restore does with the α and γ the optimizer adapted
	// when the checkpoint is another trial's (a PBT exploit): keep the
	// donor's (KeepAdapted, the default) or reset them to this
	// configuration's Alpha0 and Gamma0 (ResetAdapted). It changes nothing
	// for optimizers that adapt neither.
	OnExploit ExploitPolicy
	// Augment turns on random crops (4-pixel padding) and horizontal flips.
	Augment bool
	// Seed seeds the weights, the batch order, augmentation and dropout.
	Seed uint64
	// Unit is what Train's budget counts (default Steps).
	Unit Unit
	// EvalBatch is the evaluation batch size (default DefaultEvalBatch).
	EvalBatch int
	// EvalLimit evaluates on the first EvalLimit validation images only
	// (0: all of them).
	EvalLimit int
	// Log receives one JSON object per line for every training step and
	// every evaluation; nil logs nothing.
	Log io.Writer
}

func (c Config) withDefaults() Config {
	if c.Optimizer == (hgd.Config{}) {
		c.Optimizer = hgd.Defaults(hgd.HGD)
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.EvalBatch == 0 {
		c.EvalBatch = DefaultEvalBatch
	}
	return c
}

// Validate checks the configuration before anything is built.
func (c Config) Validate() error {
	if err := c.Net.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c = c.withDefaults()
	switch {
	case c.BatchSize < 1:
		return fmt.Errorf("%w: batch size %d", ErrConfig, c.BatchSize)
	case c.EvalBatch < 1:
		return fmt.Errorf("%w: eval batch %d", ErrConfig, c.EvalBatch)
	case c.EvalLimit < 0:
		return fmt.Errorf("%w: eval limit %d", ErrConfig, c.EvalLimit)
	case c.Unit != Steps && c.Unit != Epochs:
		return fmt.Errorf("%w: unknown unit %d", ErrConfig, int(c.Unit))
	case c.Net.TrainingMemory(c.BatchSize) > cnn.MemoryLimit:
		return fmt.Errorf("%w: %s with batches of %d needs about %.1f GiB to train, more than the %d GiB limit", ErrConfig,
			c.Net, c.BatchSize, c.Net.TrainingMemory(c.BatchSize)/(1<<30), cnn.MemoryLimit>>30)
	}
	// The optimizer's own rules (known kind, finite and non-negative
	// values, γ0 within its bound, …). The learning rate's range is
	// checked where it enters: hgdtune train's -lr flag, a search space's
	// domain (cnn.FromConfig).
	if err := c.Optimizer.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}
