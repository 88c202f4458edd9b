// Package hpotest holds the fixtures shared by the tests of the hpo runner
// and its algorithms: the metric they optimize, experiments on the
// synthetic problem, and trainables that fail on cue.
package hpotest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/internal/killtest"
	"github.com/hgdtune/hgdtune/hpo/pbt"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

// Acc is the metric of the synthetic problem: accuracy, maximized.
var Acc = hpo.Metric{Name: "acc", Goal: hpo.Maximize}

// MustNew returns newFn(c), failing t if it returns an error.
func MustNew[C, S any](t testing.TB, newFn func(C) (S, error), c C) S {
	t.Helper()
	s, err := newFn(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Synth is an experiment under s on the synthetic problem (problem and
// runner seeded with seed, evaluation noise noise) with a manual clock
// advanced by a simulated second a training step.
func Synth(s hpo.Scheduler, slots int, seed uint64, noise float64, dir string) (hpo.Experiment, *synthetic.Problem) {
	clock := hpo.NewManualClock(time.Unix(0, 0))
	p := &synthetic.Problem{Seed: seed, Noise: noise, StepCost: time.Second, Clock: clock}
	return hpo.Experiment{
		Space: synthetic.Space(), Metric: Acc, Factory: p.Factory(), Scheduler: s,
		Slots: slots, Seed: seed, Clock: clock, Storage: At(dir),
	}, p
}

// KillExperiment is the experiment of the algorithms' kill -9 tests: s (and
// searcher, nil for random search) on the synthetic problem (seed 5, noise
// 0.01), each step sleeping sleep of real time so that the kills land
// mid-run, with runner seed 2.
func KillExperiment(s hpo.Scheduler, searcher hpo.Searcher, sleep time.Duration, dir string, slots int) hpo.Experiment {
	p := &synthetic.Problem{Seed: 5, Noise: 0.01, Sleep: sleep}
	return hpo.Experiment{Space: synthetic.Space(), Metric: Acc, Factory: p.Factory(),
		Scheduler: s, Searcher: searcher, Slots: slots, Seed: 2, Storage: At(dir)}
}

// FailingAt wraps a trainable whose training fails (a divergence) past
// budget At.
type FailingAt struct {
	hpo.Trainable
	At int
}

// Train fails past budget f.At and otherwise trains f.Trainable.
func (f FailingAt) Train(ctx context.Context, until int) (hpo.Result, error) {
	if until > f.At {
		return hpo.Result{}, errors.New("loss is NaN")
	}
	return f.Trainable.Train(ctx, until)
}

// PopulationKillExperiment is the kill -9 experiment of the population
// schedulers (PBT and its variants): newFn's scheduler for a population of
// 6 on the synthetic problem, exploiting every 3 steps up to 30; it panics
// if newFn fails (the experiment is built in the child process too).
func PopulationKillExperiment(newFn func(pbt.Config) (*pbt.Scheduler, error)) killtest.Experiment {
	return func(dir string, slots int) hpo.Experiment {
		s, err := newFn(pbt.Config{Space: synthetic.Space(), PopulationSize: 6, Interval: 3, MaxBudget: 30, Seed: 7})
		if err != nil {
			panic(err)
		}
		return KillExperiment(s, nil, 2*time.Millisecond, dir, slots)
	}
}

// RunPopulation runs e, a population scheduler's experiment, and fails t
// unless the population ran to its end with every trial completed.
func RunPopulation(t testing.TB, e hpo.Experiment) *hpo.Report {
	t.Helper()
	rep, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reason != "population done" {
		t.Fatalf("reason %q", rep.Reason)
	}
	for _, tr := range rep.Trials {
		if tr.Status != hpo.Completed {
			t.Fatalf("trial %d %v at %d: %s", tr.ID, tr.Status, tr.Budget, tr.Err)
		}
	}
	return rep
}

// At is the storage of an experiment in folder dir, nil (no journal) for "".
func At(dir string) hpo.Storage {
	if dir == "" {
		return nil
	}
	return hpo.DirStorage(dir)
}

// Folder is the folder of an experiment kept in a DirStorage.
func Folder(e hpo.Experiment) string {
	d, _ := e.Storage.(hpo.DirStorage)
	return string(d)
}
