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
