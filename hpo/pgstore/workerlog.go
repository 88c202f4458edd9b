package pgstore

import (
	"fmt"
	"sync"
	"time"
)

// logf writes one line to the worker's Log, stamped with the time of day.
func (r *workerRun) logf(format string, args ...any) {
	if r.w.Log == nil {
		return
	}
	r.logMu.Lock()
	defer r.logMu.Unlock()
	fmt.Fprintf(r.w.Log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

// failed logs an error of the worker's loops through its trouble gate.
func (r *workerRun) failed(err error) {
	if line := r.trouble.fail(time.Now(), err); line != "" {
		r.logf("%s", line)
	}
}

// worked tells the trouble gate that a loop's round went through.
func (r *workerRun) worked() {
	if line := r.trouble.ok(time.Now()); line != "" {
		r.logf("%s", line)
	}
}

// trouble keeps a worker's log readable while the database fails: the
// loops retry every poll, so an outage would log two lines a second. Each
// message is shown the first time it comes; repeats are counted, and the
// first round that goes through after them logs how long the trouble
// lasted. The zero value is ready.
type trouble struct {
	mu    sync.Mutex
	n     int             // failed rounds since the last good one
	since time.Time       // the first of them
	shown map[string]bool // the messages shown since then
}

// fail records a failed round at now and returns the line to log ("": a
// repeat).
func (t *trouble) fail(now time.Time, err error) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		t.since = now
	}
	t.n++
	msg := err.Error()
	if t.shown[msg] {
		return ""
	}
	if t.shown == nil {
		t.shown = map[string]bool{}
	}
	t.shown[msg] = true
	return fmt.Sprintf("worker: %s (retrying; repeats are counted, not shown)", msg)
}

// ok records a round that went through at now and returns the line to log
// ("": there was no trouble).
func (t *trouble) ok(now time.Time) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		return ""
	}
	line := fmt.Sprintf("worker: the database answers again after %s (%d failed attempts)", now.Sub(t.since).Round(time.Second), t.n)
	t.n, t.shown = 0, nil
	return line
}
