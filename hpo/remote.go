package hpo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
)

// Remote trains an experiment's trials outside the runner's process
// (Experiment.Remote): the runner keeps the scheduling, the journal and
// the decisions, and hands each training job to Train as a Task. Package
// hpo/pgstore hands tasks to worker processes on any machine through
// PostgreSQL.
//
// A worker does with a task what RunTask does: build the trial's
// trainable with its own Factory, restore Task.Restore from the
// experiment's Storage, train to Task.Until, and save the checkpoint
// CheckpointKey(Task.Trial, budget) to that Storage before it reports the
// result. Trainables never stay in memory between tasks, so every job but
// a trial's first restores a checkpoint; for a trainable whose Restore
// continues exactly (the kill/resume tests check it), the results are the
// same bit for bit as with local workers.
type Remote interface {
	// Train has task trained and returns its result. An error wrapping
	// ErrStorage is the experiment's (it stops; rerunning resumes); any
	// other error is the trial's failure. Train returns promptly when ctx
	// is done (the run stops), withdrawing the task.
	Train(ctx context.Context, task Task) (Result, error)
}

// Task is one training job of a trial: train it from checkpoint Restore
// ("" for a new trial) to the cumulative budget Until, with Config (JSON,
// as the journal holds it: Space.DecodeConfig reads it back with its Go
// types).
type Task struct {
	Trial   TrialID         `json:"trial"`
	Config  json.RawMessage `json:"config"`
	Restore string          `json:"restore,omitempty"`
	Until   int             `json:"until"`
}

// CheckpointKey is the name of trial id's checkpoint at budget, as the
// runner and the workers of a Remote save it: "t000003/b000009".
func CheckpointKey(id TrialID, budget int) string {
	return path.Join(trialDir(id), fmt.Sprintf("b%06d", budget))
}

// RunTask carries out task as a worker of a Remote does, with the
// experiment's storage st, space sp (to decode the configuration), factory
// f and metric name: it builds the trainable, restores task.Restore, trains
// to task.Until, checks that the result holds the metric and only finite
// values, saves the checkpoint CheckpointKey(task.Trial, budget) to st and
// closes the trainable. Its errors wrap ErrStorage (st failed: a lost
// database) or ErrTrial (anything of the trial's, a panic included).
func RunTask(ctx context.Context, st Storage, sp Space, f Factory, metric string, task Task) (res Result, err error) {
	cfg, err := sp.DecodeConfig(task.Config)
	if err != nil {
		return Result{}, fmt.Errorf("%w: trial %d's configuration: %w", ErrTrial, task.Trial, err)
	}
	var t Trainable
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: trial %d panicked: %v", ErrTrial, task.Trial, p)
		}
		if t != nil {
			t.Close()
		}
	}()
	if t, err = f(ctx, task.Trial, cfg); err != nil {
		return Result{}, fmt.Errorf("%w: factory: %w", ErrTrial, err)
	}
	if t == nil {
		return Result{}, fmt.Errorf("%w: factory returned nil", ErrTrial)
	}
	if task.Restore != "" {
		if err := st.LoadCheckpoint(ctx, task.Restore, t.Restore); errors.Is(err, ErrStorage) {
			return Result{}, storageFailure(err, fmt.Sprintf("loading trial %d's checkpoint %s", task.Trial, task.Restore))
		} else if unreadable(err) {
			return Result{}, storageFailure(err, fmt.Sprintf("trial %d's checkpoint %s cannot be read back", task.Trial, task.Restore))
		} else if err != nil {
			return Result{}, fmt.Errorf("%w: restore: %w", ErrTrial, err)
		}
	}
	res, _, trialErr, fatal := trainAndSave(ctx, st, metric, task.Trial, task.Until, t)
	if fatal != nil {
		return Result{}, fatal
	}
	return res, trialErr
}

// trainAndSave trains t to until, checks its result (the metric present,
// every value finite) and saves its checkpoint: the end of every job,
// local or remote. trialErr fails the trial; fatal (wrapping ErrStorage)
// stops the experiment.
func trainAndSave(ctx context.Context, st Storage, metric string, id TrialID, until int, t Trainable) (res Result, ckpt string, trialErr, fatal error) {
	res, err := t.Train(ctx, until)
	if err != nil {
		return Result{}, "", fmt.Errorf("%w: train: %w", ErrTrial, err), nil
	}
	if res.Budget == 0 {
		res.Budget = until
	}
	if err := checkMetrics(res, metric); err != nil {
		return Result{}, "", err, nil
	}
	ckpt = CheckpointKey(id, res.Budget)
	if err := st.SaveCheckpoint(ctx, ckpt, t.Save); err != nil {
		// A checkpoint that cannot be written (a full disk, an I/O error)
		// is the experiment's problem, not the trial's: stop, journal
		// nothing, and let the rerun train the interval again.
		return Result{}, "", nil, storageFailure(err, fmt.Sprintf("saving trial %d's checkpoint at budget %d", id, res.Budget))
	}
	return res, ckpt, nil, nil
}

// checkMetrics fails a result without the metric or with a value that is
// not finite.
func checkMetrics(res Result, metric string) error {
	if _, ok := res.Metrics[metric]; !ok {
		return fmt.Errorf("%w: metric %q missing from result", ErrTrial, metric)
	}
	for k, v := range res.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: metric %q is %v", ErrTrial, k, v)
		}
	}
	return nil
}

// runRemote is runJob for an experiment with a Remote.
func (r *runner) runRemote(j *job) outcome {
	if j.failed != nil {
		return outcome{job: j, err: j.failed}
	}
	raw, err := json.Marshal(j.cfg)
	if err != nil {
		return outcome{job: j, err: fmt.Errorf("%w: trial %d's configuration: %w", ErrTrial, j.id, err)}
	}
	res, err := r.e.Remote.Train(r.wctx, Task{Trial: j.id, Config: raw, Restore: j.restore, Until: j.until})
	switch {
	case err != nil && errors.Is(err, ErrStorage):
		return outcome{job: j, fatal: storageFailure(err, fmt.Sprintf("training trial %d remotely", j.id))}
	case err != nil && !errors.Is(err, ErrTrial):
		return outcome{job: j, err: fmt.Errorf("%w: %w", ErrTrial, err)}
	case err != nil:
		return outcome{job: j, err: err}
	}
	if res.Budget == 0 {
		res.Budget = j.until
	}
	if err := checkMetrics(res, r.e.Metric.Name); err != nil {
		return outcome{job: j, err: err}
	}
	return outcome{job: j, res: res, ckpt: CheckpointKey(j.id, res.Budget)}
}
