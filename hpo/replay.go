package hpo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// replayState is the runner's replay of a journal: a resumed run feeds
// every input of the journal (results, failures, timeouts) back to the
// scheduler, and every output it produces (trials, decisions, copies) must
// equal the journal's next one; then it goes live (live.go) and appends.
type replayState struct {
	replay []Event // the journal's events after its header, resume notes left out
	cur    int     // the next of them
	// order is the dispatch order of the jobs decided while replaying,
	// relaunched in that order when the run goes live.
	order []TrialID
}

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

// log appends e to the journal, if there is one, and passes it to the
// observer. A failure is a storage error (or, for an event that cannot be
// encoded, ErrJournal).
func (r *runner) log(e *Event) error {
	if r.j != nil {
		if err := r.j.Append(e); err != nil {
			if wraps(err, ErrStorage) || errors.Is(err, ErrJournal) {
				return err
			}
			return storageFailure(err, "appending to the journal")
		}
	}
	if e.Kind != EvExperiment && e.Kind != EvResume {
		r.observe(e)
	}
	return nil
}

// observe passes an event of the run to Experiment.OnEvent.
func (r *runner) observe(e *Event) {
	if r.e.OnEvent != nil {
		r.e.OnEvent(*e)
	}
}
