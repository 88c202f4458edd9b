package reproduce

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
)

// DefaultProgressEvery is the interval of the progress lines when the
// progress writer is not a terminal (Options.ProgressEvery).
const DefaultProgressEvery = 30 * time.Second

// redrawEvery is the interval of the redrawn line on a terminal.
const redrawEvery = 500 * time.Millisecond

// progress is the view of the whole experiment: on a terminal one line
// redrawn in place, elsewhere a line every interval; on either, a line at
// the end of each run.
type progress struct {
	w      io.Writer
	total  int
	budget time.Duration
	clock  hpo.Clock
	live   bool // redraw one line in place (terminals only)

	mu      sync.Mutex
	index   int
	id      RunID
	stats   *runStats
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

// newProgress starts the view of total runs of the given budget, writing
// to w (nil: silent) every interval when w is not a terminal (0:
// DefaultProgressEvery, negative: only at the end of each run). clock nil
// means the system clock.
func newProgress(w io.Writer, total int, budget, every time.Duration, clock hpo.Clock) *progress {
	if clock == nil {
		clock = hpo.SystemClock{}
	}
	p := &progress{w: w, total: total, budget: budget, clock: clock, done: make(chan struct{}), live: isTerminal(w)}
	switch {
	case w == nil:
		return p
	case p.live:
		every = redrawEvery
	case every == 0:
		every = DefaultProgressEvery
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

func (p *progress) start(i int, id RunID, s *runStats) {
	p.mu.Lock()
	p.index, p.id, p.stats, p.started = i, id, s, p.clock.Now()
	p.mu.Unlock()
	if p.live {
		p.tick()
	}
}

// tick redraws the line on a terminal or writes a line elsewhere.
func (p *progress) tick() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stats == nil {
		return
	}
	p.stats.mu.Lock()
	best := p.stats.best
	p.stats.mu.Unlock()
	el := p.clock.Now().Sub(p.started)
	frac := 0.0
	if p.budget > 0 {
		frac = min(1, max(0, el.Seconds()/p.budget.Seconds()))
	}
	counts := fmt.Sprintf("trials %3d  results %4d  failed %2d  best acc %.4f",
		p.stats.trials.Load(), p.stats.results.Load(), p.stats.failed.Load(), best)
	if !p.live {
		fmt.Fprintf(p.w, "[%d/%d] %-18s %s/%s (%3.0f%%)  %s\n", p.index+1, p.total, p.id,
			el.Round(time.Second), p.budget, 100*frac, counts)
		return
	}
	const width = 16
	fill := int(frac * width)
	fmt.Fprintf(p.w, "\r[%d/%d] %-18s [%s%s] %5s/%s  %s ", p.index+1, p.total, p.id,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), el.Round(time.Second), p.budget, counts)
}

// end writes the line of a finished (or interrupted, or failed) run. Its
// counts come from the run's report: the trials created and those that
// failed, as the journal records them.
func (p *progress) end(rep *hpo.Report, err error, interrupted bool) {
	if p.w == nil {
		return
	}
	if p.live {
		p.tick()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	trials, failed, best := 0, 0, math.NaN()
	reason := ""
	if rep != nil {
		trials = len(rep.Trials)
		for _, t := range rep.Trials {
			if t.Status == hpo.Failed {
				failed++
			}
		}
		if len(rep.Curve) > 0 {
			best = rep.Curve[len(rep.Curve)-1].Best
		}
		reason = rep.Reason
	}
	pad, cr := "", ""
	if p.live {
		pad, cr = strings.Repeat(" ", 40), "\r"
	}
	var what string
	switch {
	case interrupted:
		what = fmt.Sprintf("interrupted: %d trials (%d failed) so far, best %.4f", trials, failed, best)
	case err != nil:
		what = fmt.Sprintf("stopped by an error after %d trials (%d failed)", trials, failed)
	default:
		what = fmt.Sprintf("done: %d trials (%d failed), best %.4f (%s)", trials, failed, best, reason)
	}
	fmt.Fprintf(p.w, "%s[%d/%d] %-18s %s%s\n", cr, p.index+1, p.total, p.id, what, pad)
	p.stats = nil
}

func (p *progress) stop() { p.once.Do(func() { close(p.done) }) }
