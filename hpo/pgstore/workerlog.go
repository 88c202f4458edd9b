package pgstore

import (
	"fmt"
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

// failed logs an error of one of the worker's loops through that loop's
// trouble gate.
func (r *workerRun) failed(tr *trouble, err error) {
	if line := tr.fail(time.Now(), err); line != "" {
		r.logf("%s", line)
	}
}

// worked tells a loop's trouble gate that a round went through.
func (r *workerRun) worked(tr *trouble) {
	if line := tr.ok(time.Now()); line != "" {
		r.logf("%s", line)
	}
}

// trouble keeps a worker's log readable while the database fails: its
// loops retry every poll, so an outage would log two lines a second. Each
// loop has its own gate (one loop's success says nothing of another's
// error). Each message is shown the first time it comes; repeats are
// counted, and the first round that goes through after them logs how long
// the trouble lasted. The zero value is ready; one goroutine uses it.
type trouble struct {
	n     int             // failed rounds since the last good one
	since time.Time       // the first of them
	shown map[string]bool // the messages shown since then
}

// fail records a failed round at now and returns the line to log ("": a
// repeat).
func (t *trouble) fail(now time.Time, err error) string {
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
	if t.n == 0 {
		return ""
	}
	line := fmt.Sprintf("worker: the database answers again after %s (%d failed attempts)", now.Sub(t.since).Round(time.Second), t.n)
	t.n, t.shown = 0, nil
	return line
}
