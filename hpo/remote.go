package hpo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
// f and metric name: the path of every job (trainJob) with a trainable
// built for the task and closed after it. It builds the trainable,
// restores task.Restore, trains to task.Until, checks the result, saves
// the checkpoint CheckpointKey(task.Trial, budget) to st. Its errors wrap
// ErrStorage (st failed: a lost database) or ErrTrial (anything of the
// trial's, a panic included).
func RunTask(ctx context.Context, st Checkpoints, sp Space, f Factory, metric string, task Task) (Result, error) {
	cfg, err := sp.DecodeConfig(task.Config)
	if err != nil {
		return Result{}, fmt.Errorf("%w: trial %d's configuration: %w", ErrTrial, task.Trial, err)
	}
	t, res, _, trialErr, fatal := trainJob(ctx, st, f, metric, jobSpec{id: task.Trial, cfg: cfg, restore: task.Restore, until: task.Until})
	if t != nil {
		t.Close()
	}
	switch {
	case fatal != nil:
		return Result{}, fatal
	case trialErr != nil:
		return Result{}, trialErr
	}
	return res, nil
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
	// The runner checks every result it journals, whoever trained it.
	res, err = checkResult(res, j.until, r.e.Metric.Name)
	if err != nil {
		return outcome{job: j, err: err}
	}
	return outcome{job: j, res: res, ckpt: CheckpointKey(j.id, res.Budget)}
}
