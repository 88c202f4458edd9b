package hpo

import (
	"errors"
	"fmt"
	"time"
)

type job struct {
	id          TrialID
	cfg         Config
	t           Trainable // nil: build with the factory
	restore     string    // checkpoint to restore (relative), "" for none
	until       int
	reconfigure bool  // t must take cfg (an exploit)
	failed      error // the trial fails at once with this error (a donor checkpoint that could not be copied)
	launched    bool
	end         time.Duration // on compute time: the virtual time at which the job ends
}

type outcome struct {
	job   *job
	t     Trainable
	res   Result
	ckpt  string
	err   error // the trial failed
	fatal error // the experiment must stop (storage): nothing is journaled
}

// ---- workers ----

func (r *runner) worker() {
	defer r.wg.Done()
	for j := range r.jobs {
		if r.e.Remote != nil {
			r.done <- r.runRemote(j)
			continue
		}
		r.done <- r.runJob(j)
	}
}

func (r *runner) runJob(j *job) (o outcome) {
	o.job = j
	t := j.t
	if j.failed != nil {
		return outcome{job: j, t: t, err: j.failed}
	}
	defer func() {
		if p := recover(); p != nil {
			o.err = fmt.Errorf("%w: trial %d panicked: %v", ErrTrial, j.id, p)
			o.t = t
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
			return outcome{job: j, t: t, err: fmt.Errorf("%w: reconfigure: %w", ErrTrial, err)}
		}
	}
	if t == nil {
		var err error
		if t, err = r.e.Factory(r.wctx, j.id, j.cfg); err != nil {
			return outcome{job: j, err: fmt.Errorf("%w: factory: %w", ErrTrial, err)}
		}
		if t == nil {
			return outcome{job: j, err: fmt.Errorf("%w: factory returned nil", ErrTrial)}
		}
	}
	if j.restore != "" {
		if err := r.st.LoadCheckpoint(r.wctx, j.restore, t.Restore); errors.Is(err, ErrStorage) {
			// The storage could not hand the checkpoint over (a lost
			// connection): the experiment's problem, as for a save.
			return outcome{job: j, t: t, fatal: storageFailure(err, fmt.Sprintf("loading trial %d's checkpoint %s", j.id, j.restore))}
		} else if unreadable(err) {
			return outcome{job: j, t: t, fatal: storageFailure(err, fmt.Sprintf("trial %d's checkpoint %s cannot be read back", j.id, j.restore))}
		} else if err != nil {
			return outcome{job: j, t: t, err: fmt.Errorf("%w: restore: %w", ErrTrial, err)}
		}
	}
	res, ckpt, trialErr, fatal := trainAndSave(r.wctx, r.st, r.e.Metric.Name, j.id, j.until, t)
	return outcome{job: j, t: t, res: res, ckpt: ckpt, err: trialErr, fatal: fatal}
}

func (r *runner) shutdown() {
	if !r.isLive {
		return
	}
	r.wcancel()
	close(r.jobs)
	for ; r.running > 0; r.running-- {
		r.discard(<-r.done)
	}
	for id, o := range r.early {
		r.discard(o)
		delete(r.early, id)
	}
	r.wg.Wait()
}

// discard drops the outcome of a job interrupted by the end of the run. On
// compute time a job may really have finished, checkpoint included, when
// the time budget cancels it (it would end after the budget): its
// checkpoint, never journaled, is deleted.
func (r *runner) discard(o outcome) {
	if o.t != nil {
		o.t.Close()
	}
	if r.virtual() && o.ckpt != "" && !r.e.KeepCheckpoints && o.fatal == nil && o.err == nil {
		if t := r.trials[o.job.id]; t.Checkpoint != o.ckpt {
			r.st.RemoveCheckpoint(r.sctx, o.ckpt)
		}
	}
}

func (r *runner) dispatch(j *job) {
	if r.virtual() {
		// The job starts now, on the slot that the last input freed (or
		// one idle since), and takes its compute time.
		var cost time.Duration
		if j.failed == nil {
			cost = max(r.e.Cost(j.cfg, r.trials[j.id].Budget, j.until), 0)
		}
		j.end = r.now + cost
	}
	r.inflight[j.id] = j
	if r.isLive {
		r.launch(j)
	} else {
		r.order = append(r.order, j.id)
	}
}

func (r *runner) launch(j *job) {
	j.launched = true
	r.running++
	r.jobs <- j
}
