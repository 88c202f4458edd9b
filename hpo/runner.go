package hpo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hgdtune/hgdtune/internal/dirlock"
)

// Experiment describes a tuning run. Its zero value is not runnable: Space,
// Metric, Factory, Scheduler and Slots must be set. Validate is called by Run
// before anything starts.
type Experiment struct {
	Space   Space
	Metric  Metric
	Factory Factory
	// Scheduler decides what runs (FIFO, hyperband, asha, …). Required.
	Scheduler Scheduler
	// Searcher suggests configurations; nil means &Random{Space, Seed}.
	Searcher Searcher
	// Slots is the number of trials trained concurrently (≥ 1).
	Slots int
	// MaxTrials caps the number of trials created; 0 means no cap. With
	// neither MaxTrials nor TimeBudget, an experiment whose scheduler never
	// finishes (FIFO, ASHA) runs until its context is cancelled.
	MaxTrials int
	// TimeBudget caps the experiment time (across resumed runs); 0 means
	// no cap. When it runs out, running trials are interrupted (they keep
	// their last checkpoint) and the experiment ends.
	TimeBudget time.Duration
	// Dir holds the journal (journal.jsonl) and the checkpoints
	// (checkpoints/t<trial>/b<budget>). Running again with the same Dir
	// resumes the experiment. "" means no journal and checkpoints in a
	// temporary directory removed at the end.
	Dir string
	// Seed seeds the default searcher; it is recorded in the journal.
	Seed uint64
	// Clock is the time source; nil means SystemClock.
	Clock Clock
	// KeepCheckpoints keeps every checkpoint; by default only the latest
	// checkpoint of each trial is kept.
	KeepCheckpoints bool
}

// Validate reports the first problem of the experiment, wrapping ErrInvalid
// (or the scheduler's or searcher's own Validate error).
func (e *Experiment) Validate() error {
	if err := e.Space.Validate(); err != nil {
		return err
	}
	if err := e.Metric.Validate(); err != nil {
		return err
	}
	switch {
	case e.Factory == nil:
		return fmt.Errorf("%w: no factory", ErrInvalid)
	case e.Scheduler == nil:
		return fmt.Errorf("%w: no scheduler", ErrInvalid)
	case e.Slots <= 0:
		return fmt.Errorf("%w: slots must be ≥ 1, got %d", ErrInvalid, e.Slots)
	case e.MaxTrials < 0:
		return fmt.Errorf("%w: MaxTrials %d < 0", ErrInvalid, e.MaxTrials)
	case e.TimeBudget < 0:
		return fmt.Errorf("%w: TimeBudget %v < 0", ErrInvalid, e.TimeBudget)
	}
	if v, ok := e.Scheduler.(Validator); ok {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	if v, ok := e.Searcher.(Validator); ok {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Record is one row of an experiment's history: a result, or a failure
// (Status Failed, Err set, no metrics), with the trial's status after the
// scheduler's decision.
type Record struct {
	Result
	Status Status
	Err    string
	Config Config // the trial's configuration when it reported
}

// Report is what a run produced (so far, if it was interrupted).
type Report struct {
	Space   Space
	Metric  Metric
	Trials  []Trial  // by id; trials interrupted by the end of the run are Paused
	Records []Record // every result and failure, in journal order
	Curve   []Point  // best metric so far over experiment time
	Elapsed time.Duration
	Reason  string // why the experiment ended; "" if interrupted (resumable)
}

// Best returns the best result of the experiment.
func (r *Report) Best() (Result, bool) {
	if len(r.Curve) == 0 {
		return Result{}, false
	}
	p := r.Curve[len(r.Curve)-1]
	for _, rec := range r.Records {
		if rec.Trial == p.Trial && rec.Budget == p.Budget && rec.Elapsed == p.Elapsed {
			return rec.Result, true
		}
	}
	return Result{}, false
}

// BestAt returns the best-so-far point in force at experiment time t (the
// last Curve point with Elapsed ≤ t), for sampling curves of several runs on
// a common time grid; false before the first result.
func (r *Report) BestAt(t time.Duration) (Point, bool) {
	i := sort.Search(len(r.Curve), func(i int) bool { return r.Curve[i].Elapsed > t })
	if i == 0 {
		return Point{}, false
	}
	return r.Curve[i-1], true
}

// Run runs (or resumes, if e.Dir holds a journal) the experiment until the
// scheduler finishes, a budget runs out, or ctx is done. It holds an
// exclusive lock on e.Dir meanwhile (another Run on the same folder, in this
// process or another, fails at once with an error wrapping
// dirlock.ErrLocked that names the holder). On ctx
// cancellation it stops the workers, returns the partial report and
// ctx.Err(); running it again resumes.
func Run(ctx context.Context, e Experiment) (*Report, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	if e.Dir != "" {
		// One process (and one Run) at a time per folder: two would
		// interleave their journal lines.
		lock, err := dirlock.Acquire(e.Dir)
		if err != nil {
			return nil, fmt.Errorf("hpo: %w", err)
		}
		defer lock.Unlock()
	}
	r, err := newRunner(e)
	if err != nil {
		return nil, err
	}
	err = r.loop(ctx)
	r.shutdown()
	rep := r.report()
	if cerr := r.j.close(); err == nil && cerr != nil {
		err = cerr
	}
	if r.tmpRoot {
		os.RemoveAll(r.ckRoot)
	}
	return rep, err
}

type job struct {
	id          TrialID
	cfg         Config
	t           Trainable // nil: build with the factory
	restore     string    // checkpoint to restore (relative), "" for none
	until       int
	reconfigure bool  // t must take cfg (an exploit)
	reset       bool  // call ExploitResetter after restoring a donor's checkpoint
	failed      error // the trial fails at once with this error (a donor checkpoint that could not be copied)
	launched    bool
}

type outcome struct {
	job   *job
	t     Trainable
	res   Result
	ckpt  string
	err   error // the trial failed
	fatal error // the experiment must stop (storage): nothing is journaled
}

type input struct {
	kind string
	id   TrialID
	res  Result
	ckpt string
	err  string
	t    Trainable
}

type runner struct {
	e        Experiment
	searcher Searcher
	clock    Clock
	ckRoot   string
	tmpRoot  bool

	j      *journal
	replay []Event
	cur    int

	trials   []*Trial
	records  []Record
	curve    []Point
	inflight map[TrialID]*job
	order    []TrialID // dispatch order of jobs while replaying (for relaunch)

	now       time.Duration
	offset    time.Duration
	start     time.Time
	isLive    bool
	exhausted bool
	notReady  bool
	ended     bool
	reason    string

	wctx    context.Context
	wcancel context.CancelFunc
	jobs    chan *job
	done    chan outcome
	running int
	timer   <-chan time.Time
	wg      sync.WaitGroup
}

func newRunner(e Experiment) (*runner, error) {
	r := &runner{
		e:        e,
		searcher: e.Searcher,
		clock:    e.Clock,
		inflight: map[TrialID]*job{},
	}
	if r.searcher == nil {
		r.searcher = &Random{Space: e.Space, Seed: e.Seed}
	}
	if r.clock == nil {
		r.clock = SystemClock{}
	}
	if e.Dir == "" {
		d, err := os.MkdirTemp("", "hpo-checkpoints-")
		if err != nil {
			return nil, err
		}
		r.ckRoot, r.tmpRoot = d, true
		return r, nil
	}
	if err := os.MkdirAll(e.Dir, 0o755); err != nil {
		return nil, err
	}
	r.ckRoot = filepath.Join(e.Dir, "checkpoints")
	if err := os.MkdirAll(r.ckRoot, 0o755); err != nil {
		return nil, err
	}
	removeStaleTemps(r.ckRoot)
	j, events, err := openJournal(filepath.Join(e.Dir, "journal.jsonl"))
	if err != nil {
		return nil, err
	}
	r.j = j
	hdr := r.header()
	if len(events) == 0 {
		hdr.Time = time.Now()
		if err := j.append(&hdr); err != nil {
			j.close()
			return nil, err
		}
		return r, nil
	}
	if err := checkHeader(&events[0], &hdr); err != nil {
		j.close()
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
	return Event{Kind: EvExperiment, Trial: -1, Seed: r.e.Seed, Slots: r.e.Slots,
		Metric: r.e.Metric.Name, Goal: r.e.Metric.Goal.String(), Params: r.e.Space.Names()}
}

func checkHeader(got, want *Event) error {
	if got.Kind != EvExperiment {
		return fmt.Errorf("%w: first line is %q, not an experiment header", ErrJournal, got.Kind)
	}
	if got.Seed != want.Seed || got.Slots != want.Slots || got.Metric != want.Metric ||
		got.Goal != want.Goal || strings.Join(got.Params, "\x00") != strings.Join(want.Params, "\x00") {
		return fmt.Errorf("%w: journal belongs to another experiment (seed %d slots %d metric %s/%s params %v; want seed %d slots %d metric %s/%s params %v)",
			ErrJournal, got.Seed, got.Slots, got.Metric, got.Goal, got.Params, want.Seed, want.Slots, want.Metric, want.Goal, want.Params)
	}
	return nil
}

func removeStaleTemps(root string) {
	matches, _ := filepath.Glob(filepath.Join(root, "*", "*.tmp"))
	for _, m := range matches {
		os.RemoveAll(m)
	}
}

// ---- the view ----

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

// ---- the loop ----

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

func (r *runner) timeUp() bool { return r.e.TimeBudget > 0 && r.now >= r.e.TimeBudget }

func (r *runner) fill() error {
	v := view{r}
	for !r.ended && len(r.inflight) < r.e.Slots {
		if r.timeUp() {
			return r.end("time budget")
		}
		d := r.e.Scheduler.Next(v)
		switch d.Action {
		case Wait:
			if len(r.inflight) == 0 {
				return r.end(r.idleReason())
			}
			return nil
		case Finish:
			reason := d.Reason
			if reason == "" {
				reason = "finished"
			}
			return r.end(reason)
		case Start:
			if err := r.startTrial(d); err != nil {
				return err
			}
		case Resume:
			t, err := r.pausedTrial(d)
			if err != nil {
				return err
			}
			if d.Until <= t.Budget {
				return fmt.Errorf("%w: resume trial %d to %d, not beyond its budget %d", ErrDecision, t.ID, d.Until, t.Budget)
			}
			if err := r.emitDecision(t.ID, d); err != nil {
				return err
			}
			t.Until = d.Until
			if err := r.setStatus(t, Running); err != nil {
				return err
			}
			r.dispatch(&job{id: t.ID, cfg: t.Config, restore: t.Checkpoint, until: d.Until})
		case Stop, Complete:
			t, err := r.pausedTrial(d)
			if err != nil {
				return err
			}
			if err := r.emitDecision(t.ID, d); err != nil {
				return err
			}
			if err := r.setStatus(t, statusOf(d.Action)); err != nil {
				return err
			}
			last, _ := t.Last()
			last.Trial = t.ID
			r.searcher.Observe(v, last, t.Status)
		case Exploit:
			t, err := r.pausedTrial(d)
			if err != nil {
				return err
			}
			if err := r.exploit(t, d, nil); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: Next returned %v", ErrDecision, d.Action)
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

func statusOf(a Action) Status {
	if a == Stop {
		return Stopped
	}
	return Completed
}

func (r *runner) pausedTrial(d Decision) (*Trial, error) {
	if d.Trial < 0 || int(d.Trial) >= len(r.trials) {
		return nil, fmt.Errorf("%w: %v of unknown trial %d", ErrDecision, d.Action, d.Trial)
	}
	t := r.trials[d.Trial]
	if t.Status != Paused {
		return nil, fmt.Errorf("%w: %v of trial %d, which is %v, not paused", ErrDecision, d.Action, d.Trial, t.Status)
	}
	return t, nil
}

func (r *runner) startTrial(d Decision) error {
	v := view{r}
	id, ok := v.NextTrial()
	if !ok || d.Trial != id {
		return fmt.Errorf("%w: start of trial %d (next id %d, can start %v)", ErrDecision, d.Trial, id, ok)
	}
	if d.Until < 1 {
		return fmt.Errorf("%w: start of trial %d with budget %d", ErrDecision, id, d.Until)
	}
	var donor *Trial
	if d.Inherit {
		if d.From < 0 || int(d.From) >= len(r.trials) {
			return fmt.Errorf("%w: trial %d inherits from unknown trial %d", ErrDecision, id, d.From)
		}
		donor = r.trials[d.From]
		switch {
		case donor.Checkpoint == "":
			return fmt.Errorf("%w: trial %d inherits from trial %d, which has no checkpoint", ErrDecision, id, d.From)
		case d.Until <= donor.CheckpointBudget:
			return fmt.Errorf("%w: trial %d inherits trial %d's budget %d and trains to %d", ErrDecision, id, d.From, donor.CheckpointBudget, d.Until)
		case d.Config == nil:
			return fmt.Errorf("%w: trial %d inherits from trial %d without a configuration", ErrDecision, id, d.From)
		}
	}
	cfg := d.Config
	if cfg == nil {
		var err error
		cfg, err = r.searcher.Suggest(v, id)
		switch {
		case errors.Is(err, ErrExhausted):
			r.exhausted = true
			return nil
		case errors.Is(err, ErrNotReady):
			r.notReady = true
			return nil
		case err != nil:
			return fmt.Errorf("hpo: searcher: %w", err)
		}
	}
	cfg, err := r.e.Space.Normalize(cfg)
	if err != nil {
		return fmt.Errorf("trial %d config: %w", id, err)
	}
	t := &Trial{ID: id, Config: cfg, Group: d.Group, Status: Running, Until: d.Until}
	r.trials = append(r.trials, t)
	raw, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("%w: trial %d config: %v", ErrInvalid, id, err)
	}
	if err := r.emit(&Event{Kind: EvTrial, Trial: id, Group: d.Group, Config: raw}); err != nil {
		return err
	}
	if err := r.emitDecision(id, d); err != nil {
		return err
	}
	j := &job{id: id, cfg: cfg, until: d.Until}
	if donor != nil {
		failed, err := r.copyFromDonor(t, donor, donor.CheckpointBudget)
		if err != nil {
			return err
		}
		j.restore, j.reset, j.failed = t.Checkpoint, d.ResetAdapted, failed
	}
	r.e.Scheduler.Add(v, *t)
	r.dispatch(j)
	return nil
}

// exploit carries out d on t, whose in-memory trainable (if any) is tt.
func (r *runner) exploit(t *Trial, d Decision, tt Trainable) error {
	from := d.From
	if from < 0 || int(from) >= len(r.trials) {
		return fmt.Errorf("%w: exploit of trial %d from unknown trial %d", ErrDecision, t.ID, from)
	}
	donor := r.trials[from]
	budget := t.Budget
	if from != t.ID {
		if donor.Checkpoint == "" {
			return fmt.Errorf("%w: exploit of trial %d from trial %d, which has no checkpoint", ErrDecision, t.ID, from)
		}
		budget = donor.CheckpointBudget
	}
	if d.Until <= budget {
		return fmt.Errorf("%w: exploit of trial %d to %d, not beyond budget %d", ErrDecision, t.ID, d.Until, budget)
	}
	cfg := t.Config
	if d.Config != nil {
		var err error
		if cfg, err = r.e.Space.Normalize(d.Config); err != nil {
			return fmt.Errorf("exploit of trial %d: %w", t.ID, err)
		}
	}
	d.Config = cfg
	d.ResetAdapted = d.ResetAdapted && from != t.ID
	if err := r.emitDecision(t.ID, d); err != nil {
		return err
	}
	t.Config = cfg
	var failed error
	if from != t.ID {
		copyErr, err := r.copyFromDonor(t, donor, budget)
		if err != nil {
			return err
		}
		failed = copyErr
		if tt != nil {
			if _, ok := tt.(Reconfigurer); !ok {
				tt.Close()
				tt = nil
			}
		}
	}
	t.Until = d.Until
	if err := r.setStatus(t, Running); err != nil {
		return err
	}
	restore := ""
	if tt == nil || from != t.ID {
		restore = t.Checkpoint
	}
	r.dispatch(&job{id: t.ID, cfg: cfg, t: tt, restore: restore, until: d.Until, reconfigure: true, reset: d.ResetAdapted, failed: failed})
	return nil
}

// copyFromDonor copies the donor's latest checkpoint (of budget) into t's
// directory, journals it as a "checkpoint" event and makes it t's
// checkpoint at that budget. The copy is taken by the runner's goroutine,
// after the decision is journaled and before the checkpoint event, and only
// when live: a run killed in between copies again when it resumes. A donor
// checkpoint that cannot be read is the target's failure (returned as
// trialErr: its job fails at once, journaled like any failure, so a resume
// replays it instead of failing again); a copy that cannot be written is
// a storage error of the experiment (err: nothing more is journaled, and
// the rerun retries the copy).
func (r *runner) copyFromDonor(t, donor *Trial, budget int) (trialErr, err error) {
	rel := filepath.Join(trialDir(t.ID), fmt.Sprintf("b%06d-from%d", budget, donor.ID))
	if !r.replaying() {
		if err := copyDir(filepath.Join(r.ckRoot, donor.Checkpoint), filepath.Join(r.ckRoot, rel)); err != nil {
			var se *storageError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%w: copying trial %d's checkpoint for trial %d: %w", ErrStorage, donor.ID, t.ID, err)
			}
			trialErr = fmt.Errorf("%w: copy trial %d's checkpoint %s: %w", ErrTrial, donor.ID, donor.Checkpoint, err)
		}
	}
	f := donor.ID
	if err := r.emit(&Event{Kind: EvCheckpoint, Trial: t.ID, Budget: budget, From: &f, Checkpoint: rel}); err != nil {
		return nil, err
	}
	r.replaceCheckpoint(t, rel, budget)
	t.Budget = budget
	return trialErr, nil
}

func trialDir(id TrialID) string { return fmt.Sprintf("t%06d", int(id)) }

func (r *runner) replaceCheckpoint(t *Trial, rel string, budget int) {
	old := t.Checkpoint
	t.Checkpoint, t.CheckpointBudget = rel, budget
	if old != "" && old != rel && !r.e.KeepCheckpoints && r.isLive {
		os.RemoveAll(filepath.Join(r.ckRoot, old))
	}
}

func (r *runner) dispatch(j *job) {
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
	if d.Action != Exploit {
		d.Trial = t.ID
	}
	tt := in.t
	switch d.Action {
	case Continue:
		if d.Until <= t.Budget {
			return fmt.Errorf("%w: continue trial %d to %d, not beyond %d", ErrDecision, t.ID, d.Until, t.Budget)
		}
		if err := r.emitDecision(t.ID, d); err != nil {
			return err
		}
		t.Until = d.Until
		restore := ""
		if tt == nil {
			restore = t.Checkpoint
		}
		r.dispatch(&job{id: t.ID, cfg: t.Config, t: tt, restore: restore, until: d.Until})
	case Pause, Stop, Complete:
		if err := r.emitDecision(t.ID, d); err != nil {
			return err
		}
		if tt != nil {
			tt.Close()
		}
		st := Paused
		if d.Action != Pause {
			st = statusOf(d.Action)
		}
		if err := r.setStatus(t, st); err != nil {
			return err
		}
	case Exploit:
		if d.Trial != t.ID {
			return fmt.Errorf("%w: OnResult of trial %d returned an exploit of trial %d", ErrDecision, t.ID, d.Trial)
		}
		if err := r.exploit(t, d, tt); err != nil {
			return err
		}
	default:
		if tt != nil {
			tt.Close()
		}
		return fmt.Errorf("%w: OnResult returned %v", ErrDecision, d.Action)
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

func (r *runner) emitDecision(id TrialID, d Decision) error {
	e := &Event{Kind: EvDecision, Trial: id, Action: d.Action.String(), Until: d.Until, Reason: d.Reason}
	if d.Action == Start && d.Inherit {
		f := d.From
		e.From = &f
		e.Reset = d.ResetAdapted
	}
	if d.Action == Exploit {
		f := d.From
		e.From = &f
		raw, err := json.Marshal(d.Config)
		if err != nil {
			return fmt.Errorf("%w: exploit config: %v", ErrInvalid, err)
		}
		e.Config = raw
		e.Reset = d.ResetAdapted
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
		return nil
	}
	if !r.isLive {
		if err := r.goLive(); err != nil {
			return err
		}
	}
	e.Time = time.Now()
	e.Elapsed = int64(r.now)
	return r.j.append(e)
}

func sameOutput(a, b *Event) bool {
	fromEq := (a.From == nil) == (b.From == nil) && (a.From == nil || *a.From == *b.From)
	return a.Kind == b.Kind && a.Trial == b.Trial && a.Action == b.Action && a.Status == b.Status &&
		a.Budget == b.Budget && a.Until == b.Until && a.Group == b.Group && fromEq &&
		bytes.Equal(a.Config, b.Config) && a.Checkpoint == b.Checkpoint && a.Reason == b.Reason &&
		a.Reset == b.Reset
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

func (r *runner) goLive() error {
	r.isLive = true
	r.offset = r.now
	r.start = r.clock.Now()
	if len(r.replay) > 0 && r.j != nil {
		if err := r.j.append(&Event{Kind: EvResume, Trial: -1, Time: time.Now(), Elapsed: int64(r.now)}); err != nil {
			return err
		}
	}
	r.wctx, r.wcancel = context.WithCancel(context.Background())
	r.jobs = make(chan *job, r.e.Slots)
	r.done = make(chan outcome, r.e.Slots)
	for range r.e.Slots {
		r.wg.Add(1)
		go r.worker()
	}
	if r.e.TimeBudget > 0 {
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
	if r.replaying() {
		e := &r.replay[r.cur]
		if !e.isInput() {
			return input{}, fmt.Errorf("%w: journal line seq %d is %s, replay expected a result", ErrReplay, e.Seq, describe(e))
		}
		r.cur++
		r.now = time.Duration(e.Elapsed)
		return input{kind: e.Kind, id: e.Trial, res: Result{Budget: e.Budget, Metrics: e.Metrics}, ckpt: e.Checkpoint, err: e.Error}, nil
	}
	if !r.isLive {
		if err := r.goLive(); err != nil {
			return input{}, err
		}
	}
	if r.running == 0 {
		return input{}, fmt.Errorf("hpo: internal: waiting with no running trial")
	}
	select {
	case o := <-r.done:
		r.running--
		if o.fatal != nil {
			if o.t != nil {
				o.t.Close()
			}
			return input{}, o.fatal
		}
		r.now = max(r.experimentTime(), r.now)
		in := input{id: o.job.id, t: o.t}
		e := &Event{Trial: o.job.id, Time: time.Now(), Elapsed: int64(r.now)}
		if o.err != nil {
			in.kind, in.err = EvFail, o.err.Error()
			e.Kind, e.Error = EvFail, in.err
		} else {
			in.kind, in.res, in.ckpt = EvResult, o.res, o.ckpt
			e.Kind, e.Budget, e.Metrics, e.Checkpoint = EvResult, o.res.Budget, o.res.Metrics, o.ckpt
		}
		if err := r.j.append(e); err != nil {
			if o.t != nil {
				o.t.Close()
			}
			return input{}, err
		}
		return in, nil
	case <-r.timer:
		r.now = max(r.experimentTime(), r.now)
		if err := r.j.append(&Event{Kind: EvTimeout, Trial: -1, Time: time.Now(), Elapsed: int64(r.now)}); err != nil {
			return input{}, err
		}
		return input{kind: EvTimeout, id: -1}, nil
	case <-ctx.Done():
		return input{}, ctx.Err()
	}
}

// ---- workers ----

func (r *runner) worker() {
	defer r.wg.Done()
	for j := range r.jobs {
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
		} else if err := rc.Reconfigure(j.cfg); err != nil {
			return outcome{job: j, t: t, err: fmt.Errorf("%w: reconfigure: %w", ErrTrial, err)}
		}
	}
	if t == nil {
		var err error
		if t, err = r.e.Factory(j.id, j.cfg); err != nil {
			return outcome{job: j, err: fmt.Errorf("%w: factory: %w", ErrTrial, err)}
		}
		if t == nil {
			return outcome{job: j, err: fmt.Errorf("%w: factory returned nil", ErrTrial)}
		}
	}
	if j.restore != "" {
		if err := t.Restore(filepath.Join(r.ckRoot, j.restore)); err != nil {
			return outcome{job: j, t: t, err: fmt.Errorf("%w: restore: %w", ErrTrial, err)}
		}
		if j.reset {
			rs, ok := t.(ExploitResetter)
			if !ok {
				return outcome{job: j, t: t, err: fmt.Errorf("%w: exploit asks to reset adapted hyperparameters, but %T does not implement hpo.ExploitResetter", ErrTrial, t)}
			}
			if err := rs.ResetAdaptedHyperparameters(); err != nil {
				return outcome{job: j, t: t, err: fmt.Errorf("%w: reset adapted hyperparameters: %w", ErrTrial, err)}
			}
		}
	}
	res, err := t.Train(r.wctx, j.until)
	if err != nil {
		return outcome{job: j, t: t, err: fmt.Errorf("%w: train: %w", ErrTrial, err)}
	}
	if res.Budget == 0 {
		res.Budget = j.until
	}
	if _, ok := res.Metrics[r.e.Metric.Name]; !ok {
		return outcome{job: j, t: t, err: fmt.Errorf("%w: metric %q missing from result", ErrTrial, r.e.Metric.Name)}
	}
	for k, v := range res.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return outcome{job: j, t: t, err: fmt.Errorf("%w: metric %q is %v", ErrTrial, k, v)}
		}
	}
	rel := filepath.Join(trialDir(j.id), fmt.Sprintf("b%06d", res.Budget))
	if err := saveCheckpoint(t, filepath.Join(r.ckRoot, rel)); err != nil {
		// A checkpoint that cannot be written (a full disk, an I/O error)
		// is the experiment's problem, not the trial's: stop, journal
		// nothing, and let the rerun train the interval again.
		return outcome{job: j, t: t, fatal: fmt.Errorf("%w: saving trial %d's checkpoint at budget %d: %w", ErrStorage, j.id, res.Budget, err)}
	}
	return outcome{job: j, t: t, res: res, ckpt: rel}
}

// saveCheckpoint saves into dir+".tmp" and renames it to dir.
func saveCheckpoint(t Trainable, dir string) error {
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	if err := t.Save(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// storageError marks an error writing the experiment's own files (a copy's
// destination), as opposed to reading a checkpoint.
type storageError struct{ err error }

func (e *storageError) Error() string { return e.err.Error() }
func (e *storageError) Unwrap() error { return e.err }

func storage(err error) error {
	if err == nil {
		return nil
	}
	return &storageError{err}
}

// copyDir copies the regular files and directories of src into dst via a
// temporary directory renamed at the end. Errors writing dst are
// *storageError; errors reading src are returned as they are.
func copyDir(src, dst string) error {
	tmp := dst + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return storage(err)
	}
	if fi, err := os.Stat(src); err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", src)
	}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(tmp, rel)
		if d.IsDir() {
			return storage(os.MkdirAll(target, 0o755))
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return storage(os.WriteFile(target, data, 0o644))
	})
	if err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.RemoveAll(dst); err != nil {
		return storage(err)
	}
	return storage(os.Rename(tmp, dst))
}

func (r *runner) shutdown() {
	if !r.isLive {
		return
	}
	r.wcancel()
	close(r.jobs)
	for ; r.running > 0; r.running-- {
		if o := <-r.done; o.t != nil {
			o.t.Close()
		}
	}
	r.wg.Wait()
}

func (r *runner) report() *Report {
	rep := &Report{Space: r.e.Space, Metric: r.e.Metric, Records: r.records, Curve: r.curve, Elapsed: r.now}
	if r.ended {
		rep.Reason = r.reason
	}
	rep.Trials = make([]Trial, len(r.trials))
	for i, t := range r.trials {
		rep.Trials[i] = *t
		if t.Status == Running {
			rep.Trials[i].Status = Paused
		}
	}
	return rep
}
