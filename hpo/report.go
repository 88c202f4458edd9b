package hpo

import (
	"sort"
	"time"
)

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
