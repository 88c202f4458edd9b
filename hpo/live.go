package hpo

import (
	"context"
	"sync"
	"time"
)

// liveState is the runner's training once the replay is over: Slots jobs
// in flight at most, trained by worker goroutines, here (runJob, job.go)
// or through the experiment's Remote (runRemote, remote.go).
type liveState struct {
	isLive  bool
	wctx    context.Context // the jobs' context, cancelled at shutdown
	wcancel context.CancelFunc
	jobs    chan *job
	done    chan outcome
	running int // jobs launched whose outcome has not been received
	wg      sync.WaitGroup
}

// live makes sure the runner has gone live: the replay is over, and from
// here on inputs come from jobs and outputs are appended.
func (r *runner) live() error {
	if r.isLive {
		return nil
	}
	r.isLive = true
	r.offset = r.now
	r.start = r.clock.Now()
	if len(r.replay) > 0 {
		if err := r.log(&Event{Kind: EvResume, Trial: -1, Time: time.Now(), Elapsed: int64(r.now)}); err != nil {
			return err
		}
	}
	r.wctx, r.wcancel = context.WithCancel(context.Background())
	// At most Slots jobs are in flight: neither channel ever blocks.
	r.jobs = make(chan *job, r.e.Slots)
	r.done = make(chan outcome, r.e.Slots)
	workers := r.e.Slots
	if r.virtual() && r.e.Workers > 0 {
		workers = r.e.Workers
	}
	for range workers {
		r.wg.Add(1)
		go r.worker()
	}
	if r.virtual() {
		r.early = map[TrialID]outcome{}
	} else if r.e.TimeBudget > 0 {
		r.timer = r.clock.After(r.e.TimeBudget - r.now)
	}
	// Relaunch, in dispatch order, the jobs the journal left running.
	for _, id := range r.order {
		if j := r.inflight[id]; j != nil && !j.launched {
			r.launch(j)
		}
	}
	r.order = nil
	return nil
}

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

// take journals outcome o as an input at experiment time r.now.
func (r *runner) take(o outcome) (input, error) {
	in := input{id: o.job.id, t: o.t}
	e := &Event{Trial: o.job.id, Time: time.Now(), Elapsed: int64(r.now)}
	if o.err != nil {
		in.kind, in.err = EvFail, o.err.Error()
		e.Kind, e.Error = EvFail, in.err
	} else {
		in.kind, in.res, in.ckpt = EvResult, o.res, o.ckpt
		e.Kind, e.Budget, e.Metrics, e.Checkpoint = EvResult, o.res.Budget, o.res.Metrics, o.ckpt
	}
	if err := r.log(e); err != nil {
		if o.t != nil {
			o.t.Close()
		}
		return input{}, err
	}
	return in, nil
}

// timeout journals the end of the time budget, at experiment time now, as
// an input.
func (r *runner) timeout(now time.Duration) (input, error) {
	r.now = now
	if err := r.log(&Event{Kind: EvTimeout, Trial: -1, Time: time.Now(), Elapsed: int64(r.now)}); err != nil {
		return input{}, err
	}
	return input{kind: EvTimeout, id: -1}, nil
}

// fatal returns the storage error of an outcome, closing its trainable, or
// nil for an ordinary outcome (a result or a trial's failure).
func fatal(o outcome) error {
	if o.fatal == nil {
		return nil
	}
	if o.t != nil {
		o.t.Close()
	}
	return o.fatal
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
