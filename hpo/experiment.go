package hpo

import (
	"fmt"
	"time"
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
	// Storage keeps the journal and the checkpoints: DirStorage(dir), a
	// local folder (dir/journal.jsonl, dir/checkpoints/t<trial>/b<budget>),
	// or package hpo/pgstore's PostgreSQL database. Running again on the
	// same storage resumes the experiment. Without a Storage there is no
	// journal, and checkpoints live in a temporary folder removed at the
	// end.
	Storage Storage
	// Remote, when set, trains the trials elsewhere (package hpo/pgstore:
	// worker processes on any machine): Slots jobs at once, each a Task
	// (see Remote). The workers build trainables with their own factory,
	// so Factory may be nil; the experiment needs a Storage that the
	// workers share (a database, or a folder they all see).
	Remote Remote
	// Seed seeds the default searcher; it is recorded in the journal.
	Seed uint64
	// Clock is the time source; nil means SystemClock. It is not read
	// when Cost is set.
	Clock Clock
	// Cost, when set, runs the experiment on compute time instead of wall
	// time (see "Compute time" in the package documentation): each of the
	// Slots virtual slots has its own clock, a job of training a trial
	// from budget `from` to `until` takes Cost(cfg, from, until) of it,
	// results are processed in the order of their virtual end times and
	// TimeBudget, Result.Elapsed and the curve are in that virtual time,
	// so that results do not depend on the real timing at all. The
	// journal records the mode: a journal resumes only in its own mode.
	Cost CostModel
	// Workers is the number of jobs trained at once in reality when Cost
	// is set (1 ≤ Workers ≤ Slots; 0 means Slots): fewer workers than
	// virtual slots take longer but give the same results. Without Cost it
	// must be 0 or Slots.
	Workers int
	// KeepCheckpoints keeps every checkpoint; by default only the latest
	// checkpoint of each trial is kept.
	KeepCheckpoints bool
	// OnEvent, when set, is called with every event of the run, in the
	// journal's order, on the runner's goroutine (it must not block): a
	// resumed run first passes those it replays from the journal, then
	// those it appends, so that counting events gives the run's exact
	// counts at any moment (a progress display). The header and the
	// resume notes are not passed. Without a journal it sees the events a
	// journal would hold.
	OnEvent func(Event)
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
	case e.Factory == nil && e.Remote == nil:
		return fmt.Errorf("%w: no factory", ErrInvalid)
	case e.Scheduler == nil:
		return fmt.Errorf("%w: no scheduler", ErrInvalid)
	case e.Slots <= 0:
		return fmt.Errorf("%w: slots must be ≥ 1, got %d", ErrInvalid, e.Slots)
	case e.MaxTrials < 0:
		return fmt.Errorf("%w: MaxTrials %d < 0", ErrInvalid, e.MaxTrials)
	case e.Workers < 0 || e.Workers > e.Slots:
		return fmt.Errorf("%w: Workers %d not in [0, Slots %d]", ErrInvalid, e.Workers, e.Slots)
	case e.Cost == nil && e.Workers != 0 && e.Workers != e.Slots:
		return fmt.Errorf("%w: Workers %d ≠ Slots %d needs a Cost (compute time)", ErrInvalid, e.Workers, e.Slots)
	case e.TimeBudget < 0:
		return fmt.Errorf("%w: TimeBudget %v < 0", ErrInvalid, e.TimeBudget)
	case e.Remote != nil && e.Storage == nil:
		return fmt.Errorf("%w: a Remote needs a Storage that its workers share", ErrInvalid)
	case e.Storage == DirStorage(""):
		return fmt.Errorf("%w: Storage is DirStorage(\"\"), a folder without a name", ErrInvalid)
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
