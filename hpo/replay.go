package hpo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

type input struct {
	kind string
	id   TrialID
	res  Result
	ckpt string
	err  string
	t    Trainable
}

func (r *runner) emitDecision(id TrialID, d Decision) error {
	e := &Event{Kind: EvDecision, Trial: id, Action: d.Action.String(), Until: d.Until, Reason: d.Reason}
	if from, ok := d.Donor(); ok && (d.Action == Start || d.Action == Exploit) {
		e.From = &from
	}
	if d.Action == Exploit {
		raw, err := json.Marshal(d.Config)
		if err != nil {
			return fmt.Errorf("%w: exploit config: %v", ErrInvalid, err)
		}
		e.Config = raw
	}
	return r.emit(e)
}

// ---- journal: replay and live ----

func (r *runner) replaying() bool { return r.cur < len(r.replay) }

// emit records an output event: while replaying it must equal the journal's
// next event; afterwards it is appended.
func (r *runner) emit(e *Event) error {
	if r.replaying() {
		want := &r.replay[r.cur]
		if !sameOutput(want, e) {
			return fmt.Errorf("%w: journal line seq %d is %s, replay produced %s", ErrReplay, want.Seq, describe(want), describe(e))
		}
		r.cur++
		r.observe(want)
		return nil
	}
	if err := r.live(); err != nil {
		return err
	}
	e.Time = time.Now()
	e.Elapsed = int64(r.now)
	return r.log(e)
}

func sameOutput(a, b *Event) bool {
	fromEq := (a.From == nil) == (b.From == nil) && (a.From == nil || *a.From == *b.From)
	return a.Kind == b.Kind && a.Trial == b.Trial && a.Action == b.Action && a.Status == b.Status &&
		a.Budget == b.Budget && a.Until == b.Until && a.Group == b.Group && fromEq &&
		bytes.Equal(a.Config, b.Config) && a.Checkpoint == b.Checkpoint && a.Reason == b.Reason
}

func describe(e *Event) string {
	s := fmt.Sprintf("%s(trial %d", e.Kind, e.Trial)
	if e.Action != "" {
		s += " " + e.Action
	}
	if e.Status != "" {
		s += " " + e.Status
	}
	if e.Until != 0 {
		s += fmt.Sprintf(" until %d", e.Until)
	}
	if len(e.Config) > 0 {
		s += " " + string(e.Config)
	}
	return s + ")"
}

// live makes sure the runner has gone live: the replay is over, and from
// here on inputs come from jobs and outputs are appended.
func (r *runner) live() error {
	if r.isLive {
		return nil
	}
	return r.goLive()
}

func (r *runner) goLive() error {
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

func (r *runner) experimentTime() time.Duration {
	return r.offset + r.clock.Now().Sub(r.start)
}

func (r *runner) nextInput(ctx context.Context) (input, error) {
	if r.virtual() {
		return r.nextVirtual(ctx)
	}
	if r.replaying() {
		e, err := r.replayedInput()
		if err != nil {
			return input{}, err
		}
		return r.consume(e), nil
	}
	if err := r.live(); err != nil {
		return input{}, err
	}
	if r.running == 0 {
		return input{}, fmt.Errorf("hpo: internal: waiting with no running trial")
	}
	select {
	case o := <-r.done:
		r.running--
		if err := fatal(o); err != nil {
			return input{}, err
		}
		r.now = max(r.experimentTime(), r.now)
		return r.take(o)
	case <-r.timer:
		return r.timeout(max(r.experimentTime(), r.now))
	case <-ctx.Done():
		return input{}, ctx.Err()
	}
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

// replayedInput returns the journal line the replay is at, which must be a
// trial's outcome (or the time budget's end).
func (r *runner) replayedInput() (*Event, error) {
	e := &r.replay[r.cur]
	if !e.isInput() {
		return nil, fmt.Errorf("%w: journal line seq %d is %s, replay expected a result", ErrReplay, e.Seq, describe(e))
	}
	return e, nil
}

// consume moves the replay past e, an input it checked, and sets the
// runner's time to e's.
func (r *runner) consume(e *Event) input {
	r.cur++
	r.now = time.Duration(e.Elapsed)
	r.observe(e)
	return input{kind: e.Kind, id: e.Trial, res: Result{Budget: e.Budget, Metrics: e.Metrics}, ckpt: e.Checkpoint, err: e.Error}
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
