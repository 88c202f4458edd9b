package reproduce

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hpo"
)

// Observer follows a reproduction, for a progress display (cmd/hgdtune
// draws one; notebooks print a line a run, nbkit.RunLines). Run calls
// RunStarted before each run and RunEnded after it (rep is what the run
// produced, nil if it could not start; err its error: a context error when
// interrupted), from Run's goroutine; RunStatus.Counts may be read at any
// time from any goroutine while the run goes.
type Observer interface {
	RunStarted(r RunStatus)
	RunEnded(r RunStatus, rep *hpo.Report, err error)
}

// RunStatus is one run of a reproduction: its place among the Total runs,
// its identity and budget, and its live counts.
type RunStatus struct {
	Index, Total int // Index counts from 0
	ID           RunID
	// Budget is the run's time budget T. ComputeClock says that it is
	// compute time (Preset.Clock "compute"), as is Counts.Elapsed: the
	// run ends when its compute time reaches Budget, whatever the wall
	// time. Otherwise Budget is wall time.
	Budget       time.Duration
	ComputeClock bool
	// Pool and Epochs, for a run that records a curve pool, are the
	// number of configurations it trains and their epochs; 0 otherwise.
	Pool, Epochs int
	stats        *runStats
}

// Counts are the numbers of a run: the trials created, the results
// reported, the trials that failed, the best validation accuracy (NaN
// before the first result), and the experiment time the run has reached.
type Counts struct {
	Trials, Results, Failed int
	Best                    float64
	// Elapsed is the run's experiment time (hpo.Result.Elapsed): on the
	// compute clock its compute time, comparable with RunStatus.Budget,
	// on the wall clock the wall time of its runner, both continued
	// across resumed runs.
	Elapsed time.Duration
}

// Counts returns the live counts of the run in progress: those of its
// journal so far.
func (r RunStatus) Counts() Counts {
	if r.stats == nil {
		return Counts{Best: math.NaN()}
	}
	r.stats.mu.Lock()
	best := r.stats.best
	r.stats.mu.Unlock()
	c := Counts{Trials: int(r.stats.trials.Load()), Results: int(r.stats.results.Load()),
		Failed: int(r.stats.failed.Load()), Best: best, Elapsed: time.Duration(r.stats.elapsed.Load())}
	if c.Results == 0 {
		c.Best = math.NaN()
	}
	return c
}

// ReportCounts returns the exact counts of a run from its report: the
// trials it created, the results and failures its journal records, its
// best validation accuracy, and the experiment time it reached.
func ReportCounts(rep *hpo.Report) Counts {
	c := Counts{Best: math.NaN()}
	if rep == nil {
		return c
	}
	c.Trials, c.Elapsed = len(rep.Trials), rep.Elapsed
	for _, t := range rep.Trials {
		if t.Status == hpo.Failed {
			c.Failed++
		}
	}
	for _, r := range rep.Records {
		if r.Status != hpo.Failed {
			c.Results++
		}
	}
	if len(rep.Curve) > 0 {
		c.Best = rep.Curve[len(rep.Curve)-1].Best
	}
	return c
}

// runStats feeds the progress view of the run in progress from the events
// of its journal (hpo.Experiment.OnEvent): those replayed when it resumes,
// then those it appends, so its counts are the journal's at every moment,
// however the trials are trained (here or by workers).
type runStats struct {
	trials, results, failed atomic.Int64
	elapsed                 atomic.Int64 // a time.Duration
	mu                      sync.Mutex
	best                    float64
}

// event counts one event of the run. The runner's goroutine is its only
// caller (the display only reads).
func (s *runStats) event(e hpo.Event) {
	if e.Elapsed > s.elapsed.Load() {
		s.elapsed.Store(e.Elapsed)
	}
	switch e.Kind {
	case hpo.EvTrial:
		s.trials.Add(1)
	case hpo.EvFail:
		s.failed.Add(1)
	case hpo.EvResult:
		s.results.Add(1)
		if v, ok := e.Metrics[trainer.MetricAccuracy]; ok {
			s.mu.Lock()
			s.best = max(s.best, v)
			s.mu.Unlock()
		}
	}
}
