package hpo

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// LoadReport reads the experiment in folder dir — its journal.jsonl — into
// the Report that Run returned (or would return if it stopped now): its
// trials, records, best-so-far curve, experiment time and end reason. It
// replays the journal's events alone, without a scheduler, a searcher or a
// factory: the journal holds every input (results, failures, timeouts) and
// every output (trials with their configurations, decisions, statuses,
// checkpoint copies). It only reads: it takes no lock and writes nothing,
// so it may read a folder while a Run appends to it (a torn last line is
// ignored, as on resume).
//
// Without a Space, configurations are decoded from JSON as they are
// (numbers are float64) and Report.Space is nil; LoadReportSpace decodes
// them into a space's types, as Run holds them.
func LoadReport(dir string) (*Report, error) { return LoadReportSpace(dir, nil) }

// LoadReportSpace is LoadReport with the experiment's space: the journal's
// parameters must be the space's (ErrJournal otherwise), each configuration
// is decoded into the domains' types (Space.DecodeConfig) and Report.Space
// is space.
func LoadReportSpace(dir string, space Space) (*Report, error) {
	path := filepath.Join(dir, "journal.jsonl")
	events, _, err := ReadJournal(path)
	if err != nil {
		return nil, err
	}
	return loadReport(events, path, space)
}

// LoadReportFrom is LoadReport for an experiment kept in any Storage (a
// DirStorage, a database): it reads the journal with ReadJournal,
// takes no lock and writes nothing, so it may read an experiment while a
// Run on another machine appends to it.
func LoadReportFrom(ctx context.Context, st Journal) (*Report, error) {
	return LoadReportSpaceFrom(ctx, st, nil)
}

// LoadReportSpaceFrom is LoadReportFrom with the experiment's space, as
// LoadReportSpace.
func LoadReportSpaceFrom(ctx context.Context, st Journal, space Space) (*Report, error) {
	events, err := st.ReadJournal(ctx)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%T", st)
	if s, ok := st.(fmt.Stringer); ok {
		name = s.String()
	}
	return loadReport(events, name, space)
}

// loadReport rebuilds the Report of a journal's events; path names the
// journal in errors.
func loadReport(events []Event, path string, space Space) (*Report, error) {
	if len(events) == 0 {
		// Created, but killed before its header was written.
		return &Report{Space: space}, nil
	}
	if events[0].Kind != EvExperiment {
		return nil, fmt.Errorf("%w: %s has no experiment header", ErrJournal, path)
	}
	h := &events[0]
	m := Metric{Name: h.Metric}
	switch h.Goal {
	case Maximize.String():
	case Minimize.String():
		m.Goal = Minimize
	default:
		return nil, fmt.Errorf("%w: %s: unknown goal %q", ErrJournal, path, h.Goal)
	}
	if space != nil && strings.Join(space.Names(), "\x00") != strings.Join(h.Params, "\x00") {
		return nil, fmt.Errorf("%w: %s has parameters %v, the space %v", ErrJournal, path, h.Params, space.Names())
	}
	l := loader{rep: &Report{Space: space, Metric: m}, space: space, pending: -1}
	for i := range events[1:] {
		e := &events[i+1]
		if err := l.event(e); err != nil {
			return nil, fmt.Errorf("%w: %s: line seq %d (%s): %v", ErrJournal, path, e.Seq, describe(e), err)
		}
	}
	l.settle()
	rep := l.rep
	rep.Trials = make([]Trial, len(l.trials))
	for i, t := range l.trials {
		rep.Trials[i] = *t
		if t.Status == Running {
			rep.Trials[i].Status = Paused
		}
	}
	return rep, nil
}

// loader rebuilds a runner's state from its journal's events.
type loader struct {
	rep    *Report
	space  Space
	trials []*Trial
	// pending is the index of the last result's record, whose status is
	// the trial's once the scheduler's OnResult decision and its effects
	// are journaled; decided says that decision was seen. -1: none.
	pending int
	decided bool
}

// settle gives the pending record its trial's status.
func (l *loader) settle() {
	if l.pending >= 0 {
		rec := &l.rep.Records[l.pending]
		rec.Status = l.trials[rec.Trial].Status
		l.pending = -1
	}
}

func (l *loader) trial(id TrialID) (*Trial, error) {
	if id < 0 || int(id) >= len(l.trials) {
		return nil, fmt.Errorf("unknown trial %d", id)
	}
	return l.trials[id], nil
}

func (l *loader) config(raw json.RawMessage) (Config, error) {
	if l.space != nil {
		return l.space.DecodeConfig(raw)
	}
	var c Config
	err := json.Unmarshal(raw, &c)
	return c, err
}

func (l *loader) event(e *Event) error {
	now := time.Duration(e.Elapsed)
	l.rep.Elapsed = max(l.rep.Elapsed, now)
	switch e.Kind {
	case EvExperiment, EvResume:
		return nil
	case EvTrial, EvDecision:
		// The reporting trial's decision comes first after its result;
		// the next trial or decision is the scheduler's Next.
		if l.pending >= 0 {
			if e.Kind == EvDecision && !l.decided {
				l.decided = true
			} else {
				l.settle()
			}
		}
	case EvResult, EvFail, EvTimeout, EvEnd:
		l.settle()
	}
	switch e.Kind {
	case EvTrial:
		if int(e.Trial) != len(l.trials) {
			return fmt.Errorf("trial %d created after %d trials", e.Trial, len(l.trials))
		}
		cfg, err := l.config(e.Config)
		if err != nil {
			return err
		}
		l.trials = append(l.trials, &Trial{ID: e.Trial, Config: cfg, Group: e.Group, Status: Running})
	case EvDecision:
		t, err := l.trial(e.Trial)
		if err != nil {
			return err
		}
		switch e.Action {
		case Exploit.String():
			cfg, err := l.config(e.Config)
			if err != nil {
				return err
			}
			t.Config = cfg
			t.Until = e.Until
		case Start.String(), Continue.String(), Resume.String():
			t.Until = e.Until
		}
	case EvStatus:
		t, err := l.trial(e.Trial)
		if err != nil {
			return err
		}
		st, ok := parseStatus(e.Status)
		if !ok {
			return fmt.Errorf("unknown status %q", e.Status)
		}
		t.Status = st
	case EvCheckpoint:
		t, err := l.trial(e.Trial)
		if err != nil {
			return err
		}
		t.Checkpoint, t.CheckpointBudget, t.Budget = e.Checkpoint, e.Budget, e.Budget
	case EvResult:
		t, err := l.trial(e.Trial)
		if err != nil {
			return err
		}
		res := Result{Trial: t.ID, Budget: e.Budget, Elapsed: now, Metrics: e.Metrics}
		if res.Budget == 0 {
			res.Budget = t.Until
		}
		t.Budget = res.Budget
		t.Results = append(t.Results, res)
		if e.Checkpoint != "" {
			t.Checkpoint, t.CheckpointBudget = e.Checkpoint, res.Budget
		}
		l.rep.Records = append(l.rep.Records, Record{Result: res, Status: Running, Config: t.Config})
		l.pending, l.decided = len(l.rep.Records)-1, false
		m := l.rep.Metric
		if val, ok := m.Value(res); ok {
			if n := len(l.rep.Curve); n == 0 || m.Better(val, l.rep.Curve[n-1].Best) {
				l.rep.Curve = append(l.rep.Curve, Point{Elapsed: now, Best: val, Trial: t.ID, Budget: res.Budget})
			}
		}
	case EvFail:
		t, err := l.trial(e.Trial)
		if err != nil {
			return err
		}
		t.Err = e.Error
		l.rep.Records = append(l.rep.Records, Record{Result: Result{Trial: t.ID, Budget: t.Budget, Elapsed: now},
			Status: Failed, Err: e.Error, Config: t.Config})
	case EvEnd:
		l.rep.Reason = e.Reason
	}
	return nil
}

func parseStatus(s string) (Status, bool) {
	for i, name := range statusNames {
		if name == s {
			return Status(i), true
		}
	}
	return 0, false
}
