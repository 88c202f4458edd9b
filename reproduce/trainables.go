package reproduce

import (
	"context"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hpo"
)

// factory builds the trainable of a trial.
func factory(o Options, data trainer.Data, arm cnn.Arm, seed uint64) hpo.Factory {
	if o.Trainables != nil {
		return o.Trainables
	}
	return func(_ context.Context, id hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
		t, err := newCNNTrial(o, data, arm, hpo.Mix(seed, uint64(id)), cfg)
		if err != nil {
			return nil, err
		}
		return t, nil
	}
}

// newCNNTrial builds the CNN trainer of configuration cfg of the preset's
// space in arm, its weights and batch order seeded by seed.
func newCNNTrial(o Options, data trainer.Data, arm cnn.Arm, seed uint64, cfg hpo.Config) (*cnnTrial, error) {
	p := o.Preset
	onExploit := trainer.KeepAdapted
	if p.PBTResetAdapted {
		onExploit = trainer.ResetAdapted
	}
	config := func(cfg hpo.Config) (trainer.Config, error) {
		tr, err := cnn.FromConfig(p.Case(), arm, cfg)
		if err != nil {
			return trainer.Config{}, err
		}
		return trainer.Config{
			Net: tr.Net, BatchSize: tr.BatchSize, Optimizer: tr.Optimizer, OnExploit: onExploit,
			Augment: p.Augment, Seed: seed, Unit: trainer.Epochs, EvalLimit: p.EvalLimit,
		}, nil
	}
	tc, err := config(cfg)
	if err != nil {
		return nil, err
	}
	t, err := trainer.New(o.Backend, data, tc)
	if err != nil {
		return nil, err
	}
	return &cnnTrial{Trainer: t, config: config}, nil
}

// cnnTrial is a trial's CNN trainer that takes a new hpo configuration in
// place (hpo.Reconfigurer): a PBT exploit then copies variables instead of
// building and compiling a new trainer, where the change allows it.
type cnnTrial struct {
	*trainer.Trainer
	config func(hpo.Config) (trainer.Config, error)
}

// Reconfigure implements hpo.Reconfigurer.
func (c *cnnTrial) Reconfigure(cfg hpo.Config) error {
	tc, err := c.config(cfg)
	if err != nil {
		return err
	}
	return c.Trainer.Reconfigure(tc)
}
