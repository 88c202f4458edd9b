package reproduce

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hpo"
)

// factory builds the trainable of a trial, counted for the progress view.
func factory(o Options, data trainer.Data, arm cnn.Arm, seed uint64, stats *runStats) hpo.Factory {
	if o.newTrainable != nil {
		return countingFactory(o.newTrainable, stats)
	}
	return countingFactory(func(_ context.Context, id hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
		t, err := newCNNTrial(o, data, arm, hpo.Mix(seed, uint64(id)), cfg)
		if err != nil {
			return nil, err
		}
		return t, nil
	}, stats)
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

// countingFactory wraps build's trainables to count them for the progress
// view.
func countingFactory(build hpo.Factory, stats *runStats) hpo.Factory {
	return func(ctx context.Context, id hpo.TrialID, cfg hpo.Config) (_ hpo.Trainable, err error) {
		stats.sawTrial(id)
		ok := false
		defer func() {
			if !ok || err != nil { // a panic (the runner recovers it) or an error
				stats.failed.Add(1)
			}
		}()
		t, err := build(ctx, id, cfg)
		ok = true
		if err != nil {
			return nil, err
		}
		if t == nil {
			stats.failed.Add(1) // the runner fails the trial
			return nil, nil
		}
		return &counted{Trainable: t, stats: stats}, nil
	}
}

// counted is a trainable that counts its results and failures for the
// progress view. The runner calls its methods from one goroutine at a
// time.
type counted struct {
	hpo.Trainable
	stats *runStats
	// pending is the result of the last Train, counted once Save has
	// checkpointed it (a save error stops the run instead).
	pending *hpo.Result
}

// guard counts a failure if the method it is deferred in panics or returns
// an error: defer c.guard(&ok, &err) with ok set just before returning.
func (c *counted) guard(ok *bool, err *error) {
	if !*ok || *err != nil {
		c.stats.failed.Add(1)
	}
}

func (c *counted) Train(ctx context.Context, until int) (r hpo.Result, err error) {
	c.pending = nil
	ok := false
	defer func() {
		if err != nil && ctx.Err() != nil {
			return // interrupted (time budget or Ctrl-C), not a failure
		}
		c.guard(&ok, &err)
	}()
	r, err = c.Trainable.Train(ctx, until)
	ok = true
	if err != nil {
		return r, err
	}
	if !validMetrics(r) {
		c.stats.failed.Add(1) // the runner fails the trial
		return r, nil
	}
	c.pending = &r
	return r, nil
}

// validMetrics reports whether the runner accepts a result: the metric is
// there and every metric is finite.
func validMetrics(r hpo.Result) bool {
	if _, ok := r.Metrics[trainer.MetricAccuracy]; !ok {
		return false
	}
	for _, v := range r.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// Save counts the pending result once it is checkpointed. A save error is
// no trial's failure: the runner stops the run with hpo.ErrStorage.
func (c *counted) Save(dir string) (err error) {
	err = c.Trainable.Save(dir)
	if err == nil && c.pending != nil {
		c.stats.results.Add(1)
		c.stats.mu.Lock()
		c.stats.best = max(c.stats.best, c.pending.Metrics[trainer.MetricAccuracy])
		c.stats.mu.Unlock()
	}
	c.pending = nil
	return err
}

func (c *counted) Restore(dir string) (err error) {
	ok := false
	defer c.guard(&ok, &err)
	err = c.Trainable.Restore(dir)
	ok = true
	return err
}

// Reconfigure implements hpo.Reconfigurer for trainables that do (the CNN
// trainer does); the others are rebuilt (hpo.ErrRebuild).
func (c *counted) Reconfigure(cfg hpo.Config) (err error) {
	rc, ok := c.Trainable.(hpo.Reconfigurer)
	if !ok {
		return fmt.Errorf("%T: %w", c.Trainable, hpo.ErrRebuild)
	}
	done := false
	defer func() {
		if !done || (err != nil && !errors.Is(err, hpo.ErrRebuild)) {
			c.stats.failed.Add(1) // the runner fails the trial
		}
	}()
	err = rc.Reconfigure(cfg)
	done = true
	return err
}
