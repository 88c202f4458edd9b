package hpo

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
)

// origin says where a decision comes from: Scheduler.Next (reporter nil),
// or Scheduler.OnResult for trial reporter, whose trainable tt (nil if it
// has none in memory) the decision takes over.
type origin struct {
	reporter *Trial
	tt       Trainable
}

func (o origin) String() string {
	if o.reporter == nil {
		return "Next"
	}
	return "OnResult"
}

// allows reports whether a decision with action a may come from o: Next
// returns Wait, Finish, Start, Resume, Stop, Complete and Exploit (the last
// four on a paused trial); OnResult returns Continue, Pause, Stop, Complete
// and Exploit (on the reporting trial).
func (o origin) allows(a Action) bool {
	switch a {
	case Stop, Complete, Exploit:
		return true
	case Wait, Finish, Start, Resume:
		return o.reporter == nil
	case Continue, Pause:
		return o.reporter != nil
	}
	return false
}

// apply validates and carries out decision d, from o: the one place where
// decisions act on trials. Every decision it carries out is journaled
// (emitDecision) before its effects, so a replay checks it first.
func (r *runner) apply(d Decision, o origin) error {
	if !o.allows(d.Action) {
		if o.tt != nil {
			o.tt.Close()
		}
		return fmt.Errorf("%w: %v returned %v", ErrDecision, o, d.Action)
	}
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
		return r.startTrial(d)
	}
	t, err := r.target(&d, o)
	if err != nil {
		return err
	}
	switch d.Action {
	case Continue, Resume:
		if d.Until <= t.Budget {
			if d.Action == Resume {
				return fmt.Errorf("%w: resume trial %d to %d, not beyond its budget %d", ErrDecision, t.ID, d.Until, t.Budget)
			}
			return fmt.Errorf("%w: continue trial %d to %d, not beyond %d", ErrDecision, t.ID, d.Until, t.Budget)
		}
		if err := r.emitDecision(t.ID, d); err != nil {
			return err
		}
		t.Until = d.Until
		if err := r.setStatus(t, Running); err != nil {
			return err
		}
		restore := ""
		if o.tt == nil {
			restore = t.Checkpoint
		}
		r.dispatch(&job{jobSpec: jobSpec{id: t.ID, cfg: t.Config, t: o.tt, restore: restore, until: d.Until}})
	case Pause, Stop, Complete:
		if err := r.emitDecision(t.ID, d); err != nil {
			return err
		}
		if o.tt != nil {
			o.tt.Close()
		}
		if err := r.setStatus(t, statusOf(d.Action)); err != nil {
			return err
		}
		if o.reporter == nil {
			// No result comes with this status change: the searcher
			// observes the trial's latest one (OnResult's caller observes
			// the new result).
			last, _ := t.Last()
			last.Trial = t.ID
			r.searcher.Observe(view{r}, last, t.Status)
		}
	case Exploit:
		return r.exploit(t, d, o.tt)
	}
	return nil
}

// target returns the trial d acts on. A decision from OnResult acts on the
// reporting trial: its Trial is set to it, except for an Exploit, which
// names its target and must name that one. A decision from Next acts on
// d.Trial, which must be paused.
func (r *runner) target(d *Decision, o origin) (*Trial, error) {
	if o.reporter == nil {
		return r.pausedTrial(*d)
	}
	t := o.reporter
	if d.Action != Exploit {
		d.Trial = t.ID
	} else if d.Trial != t.ID {
		return nil, fmt.Errorf("%w: OnResult of trial %d returned an exploit of trial %d", ErrDecision, t.ID, d.Trial)
	}
	return t, nil
}

func statusOf(a Action) Status {
	switch a {
	case Pause:
		return Paused
	case Stop:
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
	if from, ok := d.Donor(); ok {
		if from < 0 || int(from) >= len(r.trials) {
			return fmt.Errorf("%w: trial %d inherits from unknown trial %d", ErrDecision, id, from)
		}
		donor = r.trials[from]
		switch {
		case donor.Checkpoint == "":
			return fmt.Errorf("%w: trial %d inherits from trial %d, which has no checkpoint", ErrDecision, id, from)
		case d.Until <= donor.CheckpointBudget:
			return fmt.Errorf("%w: trial %d inherits trial %d's budget %d and trains to %d", ErrDecision, id, from, donor.CheckpointBudget, d.Until)
		case d.Config == nil:
			return fmt.Errorf("%w: trial %d inherits from trial %d without a configuration", ErrDecision, id, from)
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
	j := &job{jobSpec: jobSpec{id: id, cfg: cfg, until: d.Until}}
	if donor != nil {
		failed, err := r.copyFromDonor(t, donor, donor.CheckpointBudget)
		if err != nil {
			return err
		}
		j.restore, j.failed = t.Checkpoint, failed
	}
	r.e.Scheduler.Add(v, *t)
	r.dispatch(j)
	return nil
}

// exploit carries out d on t, whose in-memory trainable (if any) is tt.
func (r *runner) exploit(t *Trial, d Decision, tt Trainable) error {
	from, ok := d.Donor()
	if !ok {
		from = t.ID // no donor: only the configuration changes
	}
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
	d.From = &from // journaled explicitly, also when it is t itself
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
	r.dispatch(&job{jobSpec: jobSpec{id: t.ID, cfg: cfg, t: tt, restore: restore, until: d.Until, reconfigure: true}, failed: failed})
	return nil
}

// copyFromDonor copies the donor's latest checkpoint (of budget) into t's
// directory, journals it as a "checkpoint" event and makes it t's
// checkpoint at that budget. The copy is taken by the runner's goroutine,
// after the decision is journaled and before the checkpoint event, and only
// when live: a run killed in between copies again when it resumes. A donor
// checkpoint that cannot be read, or a copy that cannot be written, is a
// storage error of the experiment (err, wrapping ErrStorage and naming the
// checkpoint: nothing more is journaled, and the rerun retries the copy).
// A journal may record a copy's failure as the target's (an event with
// Error, from a run that treated an unreadable donor so): replayed, the
// job fails at once, at no compute time, as it did (trialErr).
func (r *runner) copyFromDonor(t, donor *Trial, budget int) (trialErr, err error) {
	rel := filepath.Join(trialDir(t.ID), fmt.Sprintf("b%06d-from%d", budget, donor.ID))
	f := donor.ID
	ev := &Event{Kind: EvCheckpoint, Trial: t.ID, Budget: budget, From: &f, Checkpoint: rel}
	if r.replaying() {
		if want := &r.replay[r.cur]; want.Kind == EvCheckpoint && want.Error != "" {
			trialErr = journaledError{msg: want.Error, kind: ErrTrial}
		}
	} else if err := r.st.CopyCheckpoint(r.sctx, donor.Checkpoint, rel); err != nil {
		if errors.Is(err, ErrStorage) {
			return nil, storageFailure(err, fmt.Sprintf("copying trial %d's checkpoint for trial %d", donor.ID, t.ID))
		}
		return nil, storageFailure(fmt.Errorf("%w: %w", ErrCheckpointData, err),
			fmt.Sprintf("trial %d's checkpoint %s cannot be read back to copy it for trial %d", donor.ID, donor.Checkpoint, t.ID))
	}
	if err := r.emit(ev); err != nil {
		return nil, err
	}
	r.replaceCheckpoint(t, rel, budget)
	t.Budget = budget
	return trialErr, nil
}

// journaledError is an error read back from the journal: its message as
// it was written, and the sentinel it wrapped (errors.Is).
type journaledError struct {
	msg  string
	kind error
}

func (e journaledError) Error() string { return e.msg }
func (e journaledError) Unwrap() error { return e.kind }

func trialDir(id TrialID) string { return fmt.Sprintf("t%06d", int(id)) }

func (r *runner) replaceCheckpoint(t *Trial, rel string, budget int) {
	old := t.Checkpoint
	t.Checkpoint, t.CheckpointBudget = rel, budget
	if old != "" && old != rel && !r.e.KeepCheckpoints && r.isLive {
		r.st.RemoveCheckpoint(r.sctx, old)
	}
}
