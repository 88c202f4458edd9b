package trainer

import (
	"fmt"

	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hpo"
)

// ExploitPolicy is what Restore does with the α and γ the optimizer adapted
// when it loads another trial's checkpoint (a PBT exploit).
type ExploitPolicy int

const (
	// KeepAdapted keeps the donor's adapted α and γ with the rest of its
	// optimizer state (the default).
	KeepAdapted ExploitPolicy = iota
	// ResetAdapted resets them to this trainer's Optimizer.Alpha0 and
	// Gamma0 (the paper suspects that copying a decayed learning rate slows
	// PBT with HGD).
	ResetAdapted
)

func (p ExploitPolicy) String() string {
	if p == ResetAdapted {
		return "reset adapted"
	}
	return "keep adapted"
}

// Reconfigure changes, in place and without building or compiling
// anything, what can change in place: the optimizer's Alpha0, Gamma0, Beta
// and Eta (their variables are set as Restore sets them: the values the
// optimizer does not adapt become the new ones, adapted α and γ stay
// state), the batch size (the position in the epoch's image order is
// kept, as when a checkpoint of another batch size is restored; the step
// graph is compiled for the new shape at the next step, the first time it
// is seen), OnExploit and Log. Any other difference (the network, the
// optimizer's kind or bounds, the seed, augmentation, units, evaluation)
// needs a new trainer: the error then wraps hpo.ErrRebuild and nothing
// changed. A PBT exploit is then Reconfigure followed by Restore of the
// donor's checkpoint: a variable copy, not a compilation.
func (t *Trainer) Reconfigure(c Config) error {
	if t.closed {
		return ErrClosed
	}
	c, err := c.resolve(t.backend, t.data)
	if err != nil {
		return err
	}
	if err := t.cfg.reconfigurable(c); err != nil {
		return err
	}
	batcher, steps := t.batcher, t.steps
	if c.BatchSize != t.cfg.BatchSize {
		b, err := cifar.NewBatcher(t.data.Train, t.data.Norm, cifar.BatcherConfig{
			BatchSize: c.BatchSize, Augment: c.Augment, Seed: c.Seed,
		})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		st, n := rebatch(t.batcher.State(), c.BatchSize, b.StepsPerEpoch())
		if err := b.SetState(st); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		batcher, steps = b, n
	}
	old, oldOpt := t.cfg, t.opt
	t.cfg, t.opt = c, hgd.New(c.Optimizer).WithScope(oldOpt.Scope())
	if err := t.applyFixedHyperparameters(); err != nil {
		t.cfg, t.opt = old, oldOpt
		return err
	}
	t.batcher, t.steps = batcher, steps
	return nil
}

// reconfigurable reports whether c differs from the trainer's configuration
// c0 only in what Reconfigure changes in place (both with defaults).
func (c0 Config) reconfigurable(c Config) error {
	o0, o := c0.Optimizer, c.Optimizer
	o0.Alpha0, o0.Gamma0, o0.Beta, o0.Eta = o.Alpha0, o.Gamma0, o.Beta, o.Eta
	var what string
	switch {
	case c.Net != c0.Net:
		what = "the network"
	case o != o0:
		what = "the optimizer's kind or a hyperparameter compiled into its graph"
	case c.Seed != c0.Seed:
		what = "the seed"
	case c.Augment != c0.Augment:
		what = "augmentation"
	case c.Unit != c0.Unit || c.EvalBatch != c0.EvalBatch || c.EvalLimit != c0.EvalLimit:
		what = "the budget unit or the evaluation"
	default:
		return nil
	}
	return fmt.Errorf("trainer: reconfigure: %s changed: %w", what, hpo.ErrRebuild)
}
