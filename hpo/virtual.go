package hpo

import (
	"context"
	"fmt"
	"time"
)

// virtualState is the compute clock's order of outcomes (Experiment.Cost):
// each job ends at a virtual time fixed when it is dispatched, and the
// runner takes outcomes in that order, whatever order the workers finish
// in.
type virtualState struct {
	// early holds outcomes that arrived before their turn.
	early map[TrialID]outcome
}

// nextJob returns the in-flight job that ends first in virtual time, ties
// broken by the lower trial id (a trial has one job at a time).
func (r *runner) nextJob() *job {
	var next *job
	for _, j := range r.inflight {
		if next == nil || j.end < next.end || j.end == next.end && j.id < next.id {
			next = j
		}
	}
	return next
}

// nextVirtual is nextInput on compute time: the next input is the end of
// the job that ends first in virtual time, or the end of the time budget
// if that job would end after it. Live, it waits for exactly that job's
// real outcome, keeping those of the others (which go on training on the
// other workers) that arrive first; replaying, it checks that the journal
// holds that input at that time.
func (r *runner) nextVirtual(ctx context.Context) (input, error) {
	next := r.nextJob()
	if next == nil {
		return input{}, fmt.Errorf("hpo: internal: waiting with no running trial")
	}
	timeout := r.e.TimeBudget > 0 && next.end > r.e.TimeBudget
	if r.replaying() {
		e, err := r.replayedInput()
		if err != nil {
			return input{}, err
		}
		switch {
		case timeout && (e.Kind != EvTimeout || time.Duration(e.Elapsed) != r.e.TimeBudget):
			return input{}, fmt.Errorf("%w: journal line seq %d is %s at %v, compute time expected the time budget to run out at %v",
				ErrReplay, e.Seq, describe(e), time.Duration(e.Elapsed), r.e.TimeBudget)
		case !timeout && (e.Kind == EvTimeout || e.Trial != next.id || time.Duration(e.Elapsed) != next.end):
			return input{}, fmt.Errorf("%w: journal line seq %d is %s at %v, compute time expected trial %d's job to end at %v (another cost model or time budget?)",
				ErrReplay, e.Seq, describe(e), time.Duration(e.Elapsed), next.id, next.end)
		}
		return r.consume(e), nil
	}
	if err := r.live(); err != nil {
		return input{}, err
	}
	if timeout {
		// The jobs in flight would all end after the budget: they are
		// interrupted (shutdown cancels them) and report nothing.
		return r.timeout(r.e.TimeBudget)
	}
	for {
		if o, ok := r.early[next.id]; ok {
			delete(r.early, next.id)
			r.now = next.end
			return r.take(o)
		}
		select {
		case o := <-r.done:
			r.running--
			if err := fatal(o); err != nil {
				return input{}, err
			}
			r.early[o.job.id] = o
		case <-ctx.Done():
			return input{}, ctx.Err()
		}
	}
}
