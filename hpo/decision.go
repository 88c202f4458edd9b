package hpo

import (
	"fmt"
	"time"
)

// Action is what a Decision asks the runner to do.
type Action int

// Actions. Next may return Wait, Finish, Start, Resume, Exploit, Stop and
// Complete (the last three on a paused trial); OnResult may return Continue,
// Pause, Stop, Complete and Exploit (on the reporting trial).
const (
	Wait     Action = iota // nothing to start now; ask again after the next event
	Finish                 // the experiment is over
	Start                  // create trial Decision.Trial and train it to Until
	Continue               // keep training the reporting trial to Until
	Pause                  // checkpoint and park the trial; it may be resumed later
	Resume                 // train paused trial Decision.Trial further, to Until
	Stop                   // end the trial early (terminal)
	Complete               // end the trial as finished (terminal)
	Exploit                // copy trial From's checkpoint into Trial, set Config, train to Until
)

var actionNames = [...]string{"wait", "finish", "start", "continue", "pause", "resume", "stop", "complete", "exploit"}

func (a Action) String() string {
	if a >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// Decision is a scheduler's answer. Schedulers never touch trials: the runner
// validates the decision, carries it out, and journals it. Build decisions
// with the helper functions (StartTrial, ResumeTrial, ExploitTrial, …) or as
// literals.
//
// Which trial a decision acts on: a decision returned by Next names it in
// Trial (for Start, the id View.NextTrial returned; for Resume, Stop,
// Complete and Exploit, a paused trial). A decision returned by OnResult
// acts on the reporting trial: for Continue, Pause, Stop and Complete its
// Trial is ignored (the helpers leave it zero) and the runner sets it; an
// Exploit names its target explicitly, and it must be the reporting trial
// (ErrDecision otherwise).
type Decision struct {
	Action Action
	// Trial is the trial acted on (see above).
	Trial TrialID
	// Until is the cumulative budget to train to (Start, Continue, Resume,
	// Exploit).
	Until int
	// Config, for Start, replaces the searcher's suggestion (population
	// based methods, the genetic algorithm); for Exploit it is the target's
	// new configuration (nil keeps it).
	Config Config
	// From is the donor, nil for none (Donor reads it). On an Exploit, the
	// donor's latest checkpoint is copied into Trial, whose Budget becomes
	// the donor's checkpoint budget; no donor, or From == Trial, changes
	// only the configuration (PBT's explore without exploit). On a Start,
	// a donor makes the new trial start from its latest checkpoint (copied
	// as for an Exploit) instead of from scratch: its Budget becomes the
	// donor's checkpoint budget, and it trains from there to Until with
	// Config (required). Population-based schedulers replace a failed
	// member this way, keeping the population's size (InheritTrial).
	// Other actions ignore it.
	From *TrialID
	// Group is recorded in Trial.Group on Start (a bracket, a population).
	Group int
	// Reason is free text, journaled.
	Reason string
}

// Donor returns the decision's donor (From), and whether it has one.
func (d Decision) Donor() (TrialID, bool) {
	if d.From == nil {
		return 0, false
	}
	return *d.From, true
}

// WaitDecision asks the runner to call Next again after the next event.
func WaitDecision() Decision { return Decision{Action: Wait} }

// FinishDecision ends the experiment.
func FinishDecision(reason string) Decision { return Decision{Action: Finish, Reason: reason} }

// StartTrial creates trial id (from View.NextTrial) in group, trained to until.
func StartTrial(id TrialID, until, group int) Decision {
	return Decision{Action: Start, Trial: id, Until: until, Group: group}
}

// InheritTrial creates trial id (from View.NextTrial) in group with
// configuration cfg, starting from trial from's latest checkpoint, and
// trains it to until (see Decision.From).
func InheritTrial(id, from TrialID, cfg Config, until, group int) Decision {
	return Decision{Action: Start, Trial: id, From: &from, Config: cfg, Until: until, Group: group}
}

// ContinueTo keeps training the reporting trial to until.
func ContinueTo(until int) Decision { return Decision{Action: Continue, Until: until} }

// PauseTrial checkpoints and parks the reporting trial.
func PauseTrial() Decision { return Decision{Action: Pause} }

// ResumeTrial trains paused trial id further, to until, from its checkpoint.
func ResumeTrial(id TrialID, until int) Decision {
	return Decision{Action: Resume, Trial: id, Until: until}
}

// StopTrial ends trial id early. From OnResult, id is ignored.
func StopTrial(id TrialID, reason string) Decision {
	return Decision{Action: Stop, Trial: id, Reason: reason}
}

// CompleteTrial ends trial id as finished. From OnResult, id is ignored.
func CompleteTrial(id TrialID) Decision { return Decision{Action: Complete, Trial: id} }

// ExploitTrial copies the latest checkpoint of from into target, sets its
// configuration to cfg (nil keeps it) and trains it to until. With from ==
// target only the configuration changes.
func ExploitTrial(target, from TrialID, cfg Config, until int) Decision {
	return Decision{Action: Exploit, Trial: target, From: &from, Config: cfg, Until: until}
}

// View is the read-only window schedulers and searchers get on the runner's
// state. It is only valid during the call it is passed to.
type View interface {
	// Trial returns a snapshot of trial id.
	Trial(id TrialID) (Trial, bool)
	// NextTrial returns the id a Start decision would create now, and
	// whether a Start is possible (trial budget not reached, searcher not
	// exhausted or waiting).
	NextTrial() (TrialID, bool)
	// Metric is the experiment's objective.
	Metric() Metric
	// Now is the experiment time of the event being handled (it continues
	// across resumed runs, and replays identically).
	Now() time.Duration
}

// Scheduler decides when trials start, continue, pause, stop, resume and
// exploit one another. Only the runner's goroutine calls it. It must be
// deterministic: replaying a journal calls it again with the same arguments
// in the same order, and must get the same decisions (ErrReplay otherwise).
type Scheduler interface {
	// Next is called while a slot is free, until it returns Wait or Finish.
	// A Start is not certain to happen (the searcher may turn out to be
	// exhausted, and then Next is called again): the scheduler learns of the
	// new trial in Add, and must not count it before.
	Next(v View) Decision
	// Add tells the scheduler that the trial of its Start decision exists.
	Add(v View, t Trial)
	// OnResult is called for every result, and decides for that trial.
	OnResult(v View, r Result) Decision
	// OnEnd tells the scheduler that a trial ended without its decision:
	// it failed (st == Failed).
	OnEnd(v View, id TrialID, st Status)
}

// Searcher suggests configurations. Only the runner's goroutine calls it,
// and like a Scheduler it must be deterministic.
type Searcher interface {
	// Suggest returns the configuration of new trial id, or ErrExhausted or
	// ErrNotReady (and then must not change its state).
	Suggest(v View, id TrialID) (Config, error)
	// Observe is called after every result and every status change, with the
	// trial's status after the scheduler's decision. For a status change
	// without a new result (a failure, a stop of a paused trial) r holds
	// only Trial and, when there is one, the trial's latest result.
	Observe(v View, r Result, st Status)
}
