package reproduce

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

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

// Counts returns the live counts of the run in progress, as its trainables
// see them in this process (a failure that coincides with the end of the
// run may not be journaled; ReportCounts of the run's report is exact).
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

// runStats feeds the progress view of the run in progress, from what its
// trainables see in this process. The runner fails a trial for an error
// of the factory, Restore or Train, a panic in any of them, or a
// missing or non-finite metric; counted counts each of these once, where
// it happens. (An error that coincides with the end of the run may not be
// journaled; the line at the end of each run counts from the run's report,
// exactly.) The run's scheduler (timedScheduler) keeps elapsed, the
// experiment time of the latest event it was told of.
type runStats struct {
	// trials is one more than the highest trial id built: trial ids are
	// dense, so this counts the trials created so far, those of an earlier
	// process (resumed) included, however often each was built again (a
	// trial resumed from its checkpoint or exploited).
	trials, results, failed atomic.Int64
	elapsed                 atomic.Int64 // a time.Duration
	mu                      sync.Mutex
	best                    float64
}

func (s *runStats) sawTrial(id hpo.TrialID) {
	for n := int64(id) + 1; ; {
		cur := s.trials.Load()
		if cur >= n || s.trials.CompareAndSwap(cur, n) {
			return
		}
	}
}

// sawTime notes that the run has reached experiment time now. The
// runner's goroutine is its only caller (the display only reads).
func (s *runStats) sawTime(now time.Duration) {
	if int64(now) > s.elapsed.Load() {
		s.elapsed.Store(int64(now))
	}
}

// timedScheduler is a run's scheduler, which notes in stats the experiment
// time of every call: the runner calls its scheduler for every result and
// failure it handles, in this process even when the trials train
// elsewhere, and replays the journal's on resuming, so stats follow the
// run's time (on the compute clock, its compute time).
type timedScheduler struct {
	hpo.Scheduler
	stats *runStats
}

// Validate implements hpo.Validator for schedulers that do.
func (s *timedScheduler) Validate() error {
	if v, ok := s.Scheduler.(hpo.Validator); ok {
		return v.Validate()
	}
	return nil
}

func (s *timedScheduler) Next(v hpo.View) hpo.Decision {
	s.stats.sawTime(v.Now())
	return s.Scheduler.Next(v)
}

func (s *timedScheduler) Add(v hpo.View, t hpo.Trial) {
	s.stats.sawTime(v.Now())
	s.Scheduler.Add(v, t)
}

func (s *timedScheduler) OnResult(v hpo.View, r hpo.Result) hpo.Decision {
	s.stats.sawTime(v.Now())
	return s.Scheduler.OnResult(v, r)
}

func (s *timedScheduler) OnEnd(v hpo.View, id hpo.TrialID, st hpo.Status) {
	s.stats.sawTime(v.Now())
	s.Scheduler.OnEnd(v, id, st)
}
