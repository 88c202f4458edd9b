package reproduce

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hpo"
)

// fakeTrials builds trainables that train instantly: each epoch advances
// the runs' manual clock by one second, so a run's results do not depend on
// the machine's speed. The CNN is not involved.
type fakeTrials struct {
	clock *hpo.ManualClock
	// failFactory, failSave, nan and failTrain list the trials that fail
	// that way; block makes Train wait for its context (started receives
	// the trial's id first, if not nil).
	failFactory, failSave, nan, failTrain map[hpo.TrialID]bool
	block                                 bool
	started                               chan hpo.TrialID
	// built counts the trainables built (a resumed or exploited trial is
	// built again).
	built int
}

func (f *fakeTrials) factory(_ context.Context, id hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
	f.built++ // slots = 1 in these tests: no concurrent calls
	if f.failFactory[id] {
		return nil, fmt.Errorf("fake factory failure of trial %d", id)
	}
	return &fakeTrainer{f: f, id: id}, nil
}

type fakeTrainer struct {
	f      *fakeTrials
	id     hpo.TrialID
	budget int
}

func (t *fakeTrainer) Train(ctx context.Context, until int) (hpo.Result, error) {
	if t.f.block {
		if t.f.started != nil {
			t.f.started <- t.id
		}
		<-ctx.Done()
		return hpo.Result{}, ctx.Err()
	}
	t.f.clock.Advance(time.Duration(until-t.budget) * time.Second)
	t.budget = until
	if t.f.failTrain[t.id] {
		return hpo.Result{}, errors.New("fake training failure")
	}
	acc := 0.1 + 0.01*float64(t.id%7) + 0.02*float64(until)
	if t.f.nan[t.id] {
		acc = math.NaN()
	}
	return hpo.Result{Budget: until, Metrics: map[string]float64{
		trainer.MetricAccuracy: acc, trainer.MetricAlpha: 0.01, trainer.MetricGamma: 0.9}}, nil
}

func (t *fakeTrainer) Save(dir string) error {
	if t.f.failSave[t.id] {
		return errors.New("fake save failure")
	}
	return os.WriteFile(filepath.Join(dir, "budget"), []byte(strconv.Itoa(t.budget)), 0o644)
}

func (t *fakeTrainer) Restore(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "budget"))
	if err != nil {
		return err
	}
	t.budget, err = strconv.Atoi(string(b))
	return err
}

func (t *fakeTrainer) Close() error { return nil }

// fakeOptions returns Options of a small experiment with fake trainables
// (one slot, T = 20 s of fake time) in a new folder.
func fakeOptions(t *testing.T, f *fakeTrials, algorithms ...string) Options {
	t.Helper()
	be := backendtest.Go(t)
	f.clock = hpo.NewManualClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	p := Presets()["cpu-quick"]
	p.Algorithms = algorithms
	p.Budget = Duration(20 * time.Second)
	p.Seeds, p.Slots = 1, 1
	p.TrainImages = 200
	p.MaxEpochs = 3
	return Options{Preset: p, Dir: filepath.Join(t.TempDir(), "results"), Data: toyDataset(200), Backend: be,
		BackendSpec: "go", Trainables: f.factory, Clock: f.clock}
}

// recorder is an Observer that keeps what Run told it.
type recorder struct {
	mu      sync.Mutex
	started []RunStatus
	ended   []ended
}

type ended struct {
	run  RunStatus
	live Counts // RunStatus.Counts when the run ended
	rep  *hpo.Report
	err  error
}

func (r *recorder) RunStarted(s RunStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, s)
}

func (r *recorder) RunEnded(s RunStatus, rep *hpo.Report, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = append(r.ended, ended{s, s.Counts(), rep, err})
}
