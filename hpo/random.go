package hpo

import "fmt"

// Random is random search (Bergstra & Bengio, 2012): every configuration is
// drawn independently from the space's prior. Trial id's configuration is
// drawn from TrialRand(Seed, id), so it does not depend on the order of
// events. MaxTrials > 0 makes it return ErrExhausted after that many
// suggestions; the runner's Experiment.MaxTrials is the usual trial budget.
type Random struct {
	Space     Space
	Seed      uint64
	MaxTrials int
}

// Validate checks the space.
func (s *Random) Validate() error {
	if s.MaxTrials < 0 {
		return fmt.Errorf("%w: random search MaxTrials %d < 0", ErrInvalid, s.MaxTrials)
	}
	return s.Space.Validate()
}

// Suggest implements Searcher.
func (s *Random) Suggest(_ View, id TrialID) (Config, error) {
	if s.MaxTrials > 0 && int(id) >= s.MaxTrials {
		return nil, ErrExhausted
	}
	return s.Space.Sample(TrialRand(s.Seed, id)), nil
}

// Observe implements Searcher; random search ignores results.
func (s *Random) Observe(View, Result, Status) {}

// FIFO is the scheduler without early stopping: every trial trains to
// MaxBudget, reporting every Step iterations (0 means one report at
// MaxBudget). With the Random searcher it is plain random search.
type FIFO struct {
	MaxBudget int
	Step      int
}

// Validate checks the budgets.
func (f *FIFO) Validate() error {
	if f.MaxBudget < 1 {
		return fmt.Errorf("%w: FIFO MaxBudget %d < 1", ErrInvalid, f.MaxBudget)
	}
	if f.Step < 0 {
		return fmt.Errorf("%w: FIFO Step %d < 0", ErrInvalid, f.Step)
	}
	return nil
}

func (f *FIFO) step() int {
	if f.Step <= 0 || f.Step > f.MaxBudget {
		return f.MaxBudget
	}
	return f.Step
}

// Next implements Scheduler: start a trial whenever one may start.
func (f *FIFO) Next(v View) Decision {
	if id, ok := v.NextTrial(); ok {
		return StartTrial(id, f.step(), 0)
	}
	return WaitDecision()
}

// Add implements Scheduler.
func (f *FIFO) Add(View, Trial) {}

// OnResult implements Scheduler.
func (f *FIFO) OnResult(_ View, r Result) Decision {
	if r.Budget >= f.MaxBudget {
		return CompleteTrial(r.Trial)
	}
	return ContinueTo(min(r.Budget+f.step(), f.MaxBudget))
}

// OnEnd implements Scheduler.
func (f *FIFO) OnEnd(View, TrialID, Status) {}
