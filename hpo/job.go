package hpo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// job is a training job of the runner's: what to train (jobSpec) and how
// it stands.
type job struct {
	jobSpec
	failed   error // the trial fails at once with this error (a donor checkpoint that could not be copied)
	launched bool
	end      time.Duration // on compute time: the virtual time at which the job ends
}

type outcome struct {
	job   *job
	t     Trainable
	res   Result
	ckpt  string
	err   error // the trial failed
	fatal error // the experiment must stop (storage): nothing is journaled
}

// jobSpec is one training job, wherever it runs.
type jobSpec struct {
	id  TrialID
	cfg Config
	// t is the trial's trainable from its previous job, nil to build one
	// with the factory; with reconfigure it must take cfg (an exploit),
	// or, if it cannot (ErrRebuild), a new one is built.
	t           Trainable
	reconfigure bool
	restore     string // checkpoint to restore first, "" for none
	until       int
}

// trainJob is the path of every training job, local (runJob, which keeps
// the trainable for the trial's next job) or remote (RunTask, which closes
// it): reconfigure or build the trainable, restore the checkpoint, train
// to the budget, check the result and save the checkpoint. It returns the
// trainable (nil if none could be built). trialErr (wrapping ErrTrial, a
// panic included) fails the trial; fatal (wrapping ErrStorage: a
// checkpoint that cannot be read or written) stops the experiment.
func trainJob(ctx context.Context, st Checkpoints, f Factory, metric string, j jobSpec) (t Trainable, res Result, ckpt string, trialErr, fatal error) {
	t = j.t
	defer func() {
		if p := recover(); p != nil {
			res, ckpt, trialErr, fatal = Result{}, "", fmt.Errorf("%w: trial %d panicked: %v", ErrTrial, j.id, p), nil
		}
	}()
	if t != nil && j.reconfigure {
		rc, ok := t.(Reconfigurer)
		if !ok {
			t.Close()
			t = nil
		} else if err := rc.Reconfigure(j.cfg); errors.Is(err, ErrRebuild) {
			t.Close() // the change needs a new trainable
			t = nil
		} else if err != nil {
			return t, Result{}, "", fmt.Errorf("%w: reconfigure: %w", ErrTrial, err), nil
		}
	}
	if t == nil {
		var err error
		if t, err = f(ctx, j.id, j.cfg); err != nil {
			return nil, Result{}, "", fmt.Errorf("%w: factory: %w", ErrTrial, err), nil
		}
		if t == nil {
			return nil, Result{}, "", fmt.Errorf("%w: factory returned nil", ErrTrial), nil
		}
	}
	if j.restore != "" {
		if err := st.LoadCheckpoint(ctx, j.restore, t.Restore); errors.Is(err, ErrStorage) {
			// The storage could not hand the checkpoint over (a lost
			// connection): the experiment's problem, as for a save.
			return t, Result{}, "", nil, storageFailure(err, fmt.Sprintf("loading trial %d's checkpoint %s", j.id, j.restore))
		} else if unreadable(err) {
			return t, Result{}, "", nil, storageFailure(err, fmt.Sprintf("trial %d's checkpoint %s cannot be read back", j.id, j.restore))
		} else if err != nil {
			return t, Result{}, "", fmt.Errorf("%w: restore: %w", ErrTrial, err), nil
		}
	}
	res, err := t.Train(ctx, j.until)
	if err != nil {
		return t, Result{}, "", fmt.Errorf("%w: train: %w", ErrTrial, err), nil
	}
	if res, err = checkResult(res, j.until, metric); err != nil {
		return t, Result{}, "", err, nil
	}
	ckpt = CheckpointKey(j.id, res.Budget)
	if err := st.SaveCheckpoint(ctx, ckpt, t.Save); err != nil {
		// A checkpoint that cannot be written (a full disk, an I/O error)
		// is the experiment's problem, not the trial's: stop, journal
		// nothing, and let the rerun train the interval again.
		return t, Result{}, "", nil, storageFailure(err, fmt.Sprintf("saving trial %d's checkpoint at budget %d", j.id, res.Budget))
	}
	return t, res, ckpt, nil, nil
}

// checkResult completes a job's result (a Budget of 0 means the job's
// until) and fails it (ErrTrial) without the metric or with a value that
// is not finite.
func checkResult(res Result, until int, metric string) (Result, error) {
	if res.Budget == 0 {
		res.Budget = until
	}
	if _, ok := res.Metrics[metric]; !ok {
		return res, fmt.Errorf("%w: metric %q missing from result", ErrTrial, metric)
	}
	for k, v := range res.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return res, fmt.Errorf("%w: metric %q is %v", ErrTrial, k, v)
		}
	}
	return res, nil
}

// runJob carries out job j in this process (trainJob), keeping the
// trainable for the trial's next job.
func (r *runner) runJob(j *job) outcome {
	if j.failed != nil {
		return outcome{job: j, t: j.t, err: j.failed}
	}
	t, res, ckpt, trialErr, fatal := trainJob(r.wctx, r.st, r.e.Factory, r.e.Metric.Name, j.jobSpec)
	return outcome{job: j, t: t, res: res, ckpt: ckpt, err: trialErr, fatal: fatal}
}
