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
	Budget       time.Duration
	stats        *runStats
}

// Counts are the numbers of a run: the trials created, the results
// reported, the trials that failed, and the best validation accuracy (NaN
// before the first result).
type Counts struct {
	Trials, Results, Failed int
	Best                    float64
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
		Failed: int(r.stats.failed.Load()), Best: best}
	if c.Results == 0 {
		c.Best = math.NaN()
	}
	return c
}

// ReportCounts returns the exact counts of a run from its report: the
// trials it created, the results and failures its journal records, and
// its best validation accuracy.
func ReportCounts(rep *hpo.Report) Counts {
	c := Counts{Best: math.NaN()}
	if rep == nil {
		return c
	}
	c.Trials = len(rep.Trials)
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
// exactly.)
type runStats struct {
	// trials is one more than the highest trial id built: trial ids are
	// dense, so this counts the trials created so far, those of an earlier
	// process (resumed) included, however often each was built again (a
	// trial resumed from its checkpoint or exploited).
	trials, results, failed atomic.Int64
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
