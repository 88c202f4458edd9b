package hpo

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// Run runs (or resumes, if the experiment's storage holds a journal) the
// experiment until the scheduler finishes, a budget runs out, or ctx is
// done. It holds the storage's lock meanwhile (another Run on the same
// folder or experiment, in this process or another, fails at once with an
// error wrapping ErrLocked that names the holder; for a folder it also
// wraps dirlock.ErrLocked). On ctx cancellation it stops the workers,
// returns the partial report and ctx.Err(); running it again resumes.
func Run(ctx context.Context, e Experiment) (*Report, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	st, tmp := e.Storage, ""
	if st == nil {
		// No journal: checkpoints in a temporary folder, removed at the end.
		d, err := os.MkdirTemp("", "hpo-checkpoints-")
		if err != nil {
			return nil, err
		}
		st, tmp = DirStorage(d), d
		defer os.RemoveAll(d)
	} else {
		// One runner at a time per experiment: two would interleave their
		// journals.
		release, err := st.Lock(ctx)
		if err != nil {
			return nil, fmt.Errorf("hpo: %w", err)
		}
		defer release()
	}
	r, err := newRunner(ctx, e, st, tmp == "")
	if err != nil {
		return nil, err
	}
	err = r.loop(ctx)
	r.shutdown()
	rep := r.report()
	if r.j != nil {
		if cerr := r.j.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}
	return rep, err
}

// runner runs one experiment. Its parts, each in its own file, are the
// modes it runs in: replayState (replay.go) feeds the journal's events back
// while a run resumes; liveState (live.go) trains jobs once the replay is
// over, here (job.go) or through a Remote (remote.go); the clock orders
// the inputs, wallState (wall.go) on the wall clock or virtualState
// (virtual.go) on compute time. runner.go is the loop that asks the
// scheduler and applies its decisions (apply.go).
type runner struct {
	e        Experiment
	searcher Searcher
	clock    Clock
	// st keeps the journal and the checkpoints; sctx is the context of
	// the runner goroutine's calls to it, which the run's cancellation
	// does not interrupt.
	st   Storage
	sctx context.Context
	j    JournalWriter // nil: no journal

	trials    []*Trial
	records   []Record
	curve     []Point
	inflight  map[TrialID]*job
	now       time.Duration // experiment time
	exhausted bool          // the searcher has no more configurations
	notReady  bool          // the searcher has none yet
	ended     bool
	reason    string

	replayState
	liveState
	wallState
	virtualState
}

// virtual reports whether the experiment runs on compute time.
func (r *runner) virtual() bool { return r.e.Cost != nil }

func newRunner(ctx context.Context, e Experiment, st Storage, journaled bool) (*runner, error) {
	r := &runner{
		e:        e,
		searcher: e.Searcher,
		clock:    e.Clock,
		st:       st,
		sctx:     context.WithoutCancel(ctx),
		inflight: map[TrialID]*job{},
	}
	if r.searcher == nil {
		r.searcher = &Random{Space: e.Space, Seed: e.Seed}
	}
	if r.clock == nil {
		r.clock = SystemClock{}
	}
	if !journaled {
		return r, nil
	}
	events, j, err := st.OpenJournal(r.sctx)
	if err != nil {
		return nil, err
	}
	r.j = j
	hdr := r.header()
	if len(events) == 0 {
		hdr.Time = time.Now()
		if err := r.log(&hdr); err != nil {
			j.Close()
			return nil, err
		}
		return r, nil
	}
	if err := checkHeader(&events[0], &hdr); err != nil {
		j.Close()
		return nil, err
	}
	for _, ev := range events[1:] {
		if ev.Kind != EvResume && ev.Kind != EvExperiment {
			r.replay = append(r.replay, ev)
		}
	}
	return r, nil
}

func (r *runner) header() Event {
	h := Event{Kind: EvExperiment, Trial: -1, Seed: r.e.Seed, Slots: r.e.Slots,
		Metric: r.e.Metric.Name, Goal: r.e.Metric.Goal.String(), Params: r.e.Space.Names()}
	if r.virtual() {
		h.Clock = computeClock
	}
	return h
}

// computeClock is the header's Clock of a compute-time experiment.
const computeClock = "compute"

func clockName(c string) string {
	if c == "" {
		return "wall"
	}
	return c
}

func checkHeader(got, want *Event) error {
	if got.Kind != EvExperiment {
		return fmt.Errorf("%w: first line is %q, not an experiment header", ErrJournal, got.Kind)
	}
	if got.Seed != want.Seed || got.Slots != want.Slots || got.Metric != want.Metric ||
		got.Goal != want.Goal || strings.Join(got.Params, "\x00") != strings.Join(want.Params, "\x00") || got.Clock != want.Clock {
		return fmt.Errorf("%w: journal belongs to another experiment (seed %d slots %d metric %s/%s params %v clock %s; want seed %d slots %d metric %s/%s params %v clock %s)",
			ErrJournal, got.Seed, got.Slots, got.Metric, got.Goal, got.Params, clockName(got.Clock),
			want.Seed, want.Slots, want.Metric, want.Goal, want.Params, clockName(want.Clock))
	}
	return nil
}

// input is what the runner waits for: a job's outcome (EvResult, EvFail),
// or the end of the time budget (EvTimeout), live or replayed.
type input struct {
	kind string
	id   TrialID
	res  Result
	ckpt string
	err  string
	t    Trainable
}

// view is the runner's state as the scheduler and searcher see it (View).
type view struct{ r *runner }

func (v view) Trial(id TrialID) (Trial, bool) {
	if id < 0 || int(id) >= len(v.r.trials) {
		return Trial{}, false
	}
	return *v.r.trials[id], true
}

func (v view) NextTrial() (TrialID, bool) { return TrialID(len(v.r.trials)), v.r.canStart() }
func (v view) Metric() Metric             { return v.r.e.Metric }
func (v view) Now() time.Duration         { return v.r.now }

func (r *runner) canStart() bool {
	return !r.ended && !r.exhausted && !r.notReady && (r.e.MaxTrials == 0 || len(r.trials) < r.e.MaxTrials)
}

func (r *runner) loop(ctx context.Context) error {
	for !r.ended {
		if err := r.fill(); err != nil {
			return err
		}
		if r.ended {
			break
		}
		in, err := r.nextInput(ctx)
		if err != nil {
			return err
		}
		r.notReady = false
		if err := r.handle(in); err != nil {
			return err
		}
	}
	return nil
}

// nextInput returns the next input: a job's outcome or the end of the time
// budget, in the order of the experiment's clock (nextWall, nextVirtual),
// from the journal while the run replays.
func (r *runner) nextInput(ctx context.Context) (input, error) {
	if r.virtual() {
		return r.nextVirtual(ctx)
	}
	return r.nextWall(ctx)
}

func (r *runner) timeUp() bool { return r.e.TimeBudget > 0 && r.now >= r.e.TimeBudget }

// fill asks the scheduler what to do while a slot is free, until it says
// Wait or Finish (or the time budget runs out).
func (r *runner) fill() error {
	for !r.ended && len(r.inflight) < r.e.Slots {
		if r.timeUp() {
			return r.end("time budget")
		}
		d := r.e.Scheduler.Next(view{r})
		if err := r.apply(d, origin{}); err != nil {
			return err
		}
		if d.Action == Wait {
			return nil
		}
	}
	return nil
}

func (r *runner) idleReason() string {
	switch {
	case r.e.MaxTrials > 0 && len(r.trials) >= r.e.MaxTrials:
		return "trial budget"
	case r.exhausted:
		return "searcher exhausted"
	}
	return "idle"
}

// handle takes one input: a timeout ends the experiment, a failure ends its
// trial, a result is recorded and its trial goes where the scheduler's
// OnResult decision sends it.
func (r *runner) handle(in input) error {
	v := view{r}
	if in.kind == EvTimeout {
		return r.end("time budget")
	}
	if in.id < 0 || int(in.id) >= len(r.trials) || r.inflight[in.id] == nil {
		if in.t != nil {
			in.t.Close()
		}
		return fmt.Errorf("%w: %s of trial %d, which is not running", ErrReplay, in.kind, in.id)
	}
	t := r.trials[in.id]
	j := r.inflight[in.id]
	delete(r.inflight, in.id)
	if in.kind == EvFail {
		if in.t != nil {
			in.t.Close()
		}
		t.Err = in.err
		r.records = append(r.records, Record{Result: Result{Trial: t.ID, Budget: t.Budget, Elapsed: r.now}, Status: Failed, Err: in.err, Config: t.Config})
		if err := r.setStatus(t, Failed); err != nil {
			return err
		}
		r.e.Scheduler.OnEnd(v, t.ID, Failed)
		last, _ := t.Last()
		last.Trial = t.ID
		r.searcher.Observe(v, last, Failed)
		return nil
	}
	res := in.res
	res.Trial, res.Elapsed = t.ID, r.now
	if res.Budget == 0 {
		res.Budget = j.until
	}
	t.Budget = res.Budget
	t.Results = append(t.Results, res)
	if in.ckpt != "" {
		r.replaceCheckpoint(t, in.ckpt, res.Budget)
	}
	r.records = append(r.records, Record{Result: res, Status: Running, Config: t.Config})
	rec := &r.records[len(r.records)-1]
	if val, ok := r.e.Metric.Value(res); ok {
		if n := len(r.curve); n == 0 || r.e.Metric.Better(val, r.curve[n-1].Best) {
			r.curve = append(r.curve, Point{Elapsed: r.now, Best: val, Trial: t.ID, Budget: res.Budget})
		}
	}
	if r.timeUp() {
		if in.t != nil {
			in.t.Close()
		}
		if err := r.setStatus(t, Paused); err != nil {
			return err
		}
		rec.Status = Paused
		return r.end("time budget")
	}
	d := r.e.Scheduler.OnResult(v, res)
	if err := r.apply(d, origin{reporter: t, tt: in.t}); err != nil {
		return err
	}
	rec.Status = t.Status
	r.searcher.Observe(v, res, t.Status)
	return nil
}

func (r *runner) end(reason string) error {
	r.ended, r.reason = true, reason
	return r.emit(&Event{Kind: EvEnd, Trial: -1, Reason: reason})
}

func (r *runner) setStatus(t *Trial, st Status) error {
	if t.Status == st {
		return nil
	}
	t.Status = st
	return r.emit(&Event{Kind: EvStatus, Trial: t.ID, Status: st.String(), Budget: t.Budget})
}
