package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/reproduce"
)

// defaultProgressEvery is the interval of reproduce's progress lines when
// stderr is not a terminal.
const defaultProgressEvery = 30 * time.Second

// redrawEvery is the interval of the redrawn line on a terminal.
const redrawEvery = 500 * time.Millisecond

// runProgress is reproduce's progress display (a reproduce.Observer): on a
// terminal one line redrawn in place, elsewhere (a log file, a pipe) a line
// every interval; on either, a line at the end of each run, counted from
// the run's report.
type runProgress struct {
	w     io.Writer
	clock hpo.Clock
	live  bool // redraw one line in place (terminals only)

	mu      sync.Mutex
	run     *reproduce.RunStatus
	started time.Time
	done    chan struct{}
	once    sync.Once
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newRunProgress starts the display on w, with a line every interval when
// w is not a terminal (0: defaultProgressEvery; negative: only at the end
// of each run). clock nil means the system clock. Stop it with stop.
func newRunProgress(w io.Writer, every time.Duration, clock hpo.Clock) *runProgress {
	if clock == nil {
		clock = hpo.SystemClock{}
	}
	p := &runProgress{w: w, clock: clock, done: make(chan struct{}), live: isTerminal(w)}
	switch {
	case p.live:
		every = redrawEvery
	case every == 0:
		every = defaultProgressEvery
	case every < 0:
		return p
	}
	go func() {
		for {
			select {
			case <-p.done:
				return
			case <-clock.After(every):
				p.tick()
			}
		}
	}()
	return p
}

// RunStarted implements reproduce.Observer.
func (p *runProgress) RunStarted(r reproduce.RunStatus) {
	p.mu.Lock()
	p.run, p.started = &r, p.clock.Now()
	p.mu.Unlock()
	if p.live {
		p.tick()
	}
}

// tick redraws the line on a terminal or writes a line elsewhere.
func (p *runProgress) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		return
	}
	line := progressLine(*p.run, p.run.Counts(), p.clock.Now().Sub(p.started), p.live)
	if p.live {
		fmt.Fprintf(p.w, "\r%s ", line)
		return
	}
	fmt.Fprintln(p.w, line)
}

// progressLine is the progress of run r with counts c, wall its wall time
// in this process: with a bar on a terminal (live). The fraction done is
// the run's time against its budget: on the compute clock its compute time
// (c.Elapsed), shown with the wall time apart; on the wall clock wall.
func progressLine(r reproduce.RunStatus, c reproduce.Counts, wall time.Duration, live bool) string {
	el := wall
	if r.ComputeClock {
		el = c.Elapsed
	}
	frac := 0.0
	if r.Budget > 0 {
		frac = min(1, max(0, el.Seconds()/r.Budget.Seconds()))
	}
	best := c.Best
	if math.IsNaN(best) {
		best = 0
	}
	counts := fmt.Sprintf("trials %3d  results %4d  failed %2d  best acc %.4f", c.Trials, c.Results, c.Failed, best)
	head := fmt.Sprintf("[%d/%d] %-18s", r.Index+1, r.Total, r.ID)
	if r.Pool > 0 {
		return head + " " + recordingProgress(r, c, wall)
	}
	const width = 16
	fill := int(frac * width)
	bar := "[" + strings.Repeat("=", fill) + strings.Repeat(" ", width-fill) + "]"
	switch {
	case r.ComputeClock && live:
		return fmt.Sprintf("%s %s compute %s/%s · wall %s  %s", head, bar,
			el.Round(100*time.Millisecond), r.Budget, wall.Round(time.Second), counts)
	case r.ComputeClock:
		return fmt.Sprintf("%s compute %s/%s (%3.0f%%) · wall %s  %s", head,
			el.Round(100*time.Millisecond), r.Budget, 100*frac, wall.Round(time.Second), counts)
	case live:
		return fmt.Sprintf("%s %s %5s/%s  %s", head, bar, el.Round(time.Second), r.Budget, counts)
	default:
		return fmt.Sprintf("%s %s/%s (%3.0f%%)  %s", head, el.Round(time.Second), r.Budget, 100*frac, counts)
	}
}

// RunEnded implements reproduce.Observer: the line of a finished (or
// interrupted, or failed) run, with the exact counts of its report.
func (p *runProgress) RunEnded(r reproduce.RunStatus, rep *hpo.Report, err error) {
	if p.live {
		p.tick()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := reproduce.ReportCounts(rep)
	reason := ""
	if rep != nil {
		reason = rep.Reason
	}
	pad, cr := "", ""
	if p.live {
		pad, cr = strings.Repeat(" ", 40), "\r"
	}
	var what string
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		what = fmt.Sprintf("interrupted: %d trials (%d failed) so far, best %.4f", c.Trials, c.Failed, c.Best)
	case errors.Is(err, hpo.ErrLocked):
		what = "held by another process: its results are read when it ends"
	case err != nil:
		what = fmt.Sprintf("stopped by an error after %d trials (%d failed)", c.Trials, c.Failed)
	default:
		what = fmt.Sprintf("done: %d trials (%d failed), best %.4f (%s)", c.Trials, c.Failed, c.Best, reason)
	}
	fmt.Fprintf(p.w, "%s[%d/%d] %-18s %s%s\n", cr, r.Index+1, r.Total, r.ID, what, pad)
	p.run = nil
}

func (p *runProgress) stop() { p.once.Do(func() { close(p.done) }) }

// Waiting implements reproduce.Waiter: the runs that other processes hold.
func (p *runProgress) Waiting(runs []reproduce.RunStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID.String())
	}
	fmt.Fprintf(p.w, "waiting for %d runs held by other processes: %s\n", len(runs), strings.Join(ids, ", "))
}

// recordingProgress is the progress of a run that records a curve pool:
// the configurations started against the pool's size, and the time left
// at the rate of this process's results (one per epoch).
func recordingProgress(r reproduce.RunStatus, c reproduce.Counts, wall time.Duration) string {
	started := min(c.Trials, r.Pool)
	left := "?"
	if c.Results > 0 {
		rest := (r.Pool - started) * r.Epochs
		left = time.Duration(float64(wall) / float64(c.Results) * float64(rest)).Round(time.Second).String()
	}
	return fmt.Sprintf("configurations %d/%d (%3.0f%%) · results %d · failed %d · wall %s · left ≈ %s",
		started, r.Pool, 100*float64(started)/float64(r.Pool), c.Results, c.Failed, wall.Round(time.Second), left)
}
