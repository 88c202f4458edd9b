package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/reproduce"
)

// tickClock is a clock whose timers the test fires by hand: After hands
// each timer's channel (and duration) to the test, so the test knows the
// progress goroutine is waiting, and that it finished its previous tick.
type tickClock struct {
	mu     sync.Mutex
	now    time.Time
	timers chan tickTimer
}

type tickTimer struct {
	d  time.Duration
	ch chan time.Time
}

func newTickClock() *tickClock {
	return &tickClock{now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), timers: make(chan tickTimer, 4)}
}

func (c *tickClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *tickClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.timers <- tickTimer{d, ch}
	return ch
}

// fire advances the clock to the next timer's deadline and fires it, then
// waits for the goroutine to wait again (its line is written by then).
func (c *tickClock) fire(t *testing.T) {
	t.Helper()
	tm := <-c.timers
	c.mu.Lock()
	c.now = c.now.Add(tm.d)
	now := c.now
	c.mu.Unlock()
	tm.ch <- now
	next := <-c.timers
	c.timers <- next // put it back for the next fire
}

// Off a terminal (a log file, a pipe) the progress view writes a line
// every interval while a run is going, not only one at the end of each run.
func TestProgressLinesOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	clock := newTickClock()
	p := newRunProgress(&buf, 20*time.Second, clock)
	defer p.stop()
	if tm := <-clock.timers; tm.d != 20*time.Second {
		t.Fatalf("ticks every %v, want 20s", tm.d)
	} else {
		clock.timers <- tm
	}
	clock.fire(t) // no run yet: no line
	if buf.Len() != 0 {
		t.Errorf("a line before any run: %q", buf.String())
	}
	run := reproduce.RunStatus{Index: 1, Total: 4, ID: reproduce.RunID{Algorithm: reproduce.ASHA, Arm: "hgd", Seed: 0}, Budget: time.Minute}
	p.RunStarted(run)
	if buf.Len() != 0 {
		t.Errorf("off a terminal, start wrote %q", buf.String())
	}
	clock.fire(t)
	clock.fire(t)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got:\n%s", buf.String())
	}
	for i, want := range []string{"[2/4] asha-hgd-s0        20s/1m0s ( 33%)  trials   0  results    0  failed  0  best acc 0.0000",
		"[2/4] asha-hgd-s0        40s/1m0s ( 67%)  trials   0"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d:\n%s\nwant prefix\n%s", i+1, lines[i], want)
		}
	}
	if strings.Contains(buf.String(), "\r") {
		t.Errorf("carriage returns off a terminal: %q", buf.String())
	}
	p.RunEnded(run, &hpo.Report{Trials: []hpo.Trial{{ID: 0}, {ID: 1, Status: hpo.Failed}, {ID: 2}}, Reason: "time budget"}, nil)
	if !strings.Contains(buf.String(), "[2/4] asha-hgd-s0        done: 3 trials (1 failed), best NaN (time budget)\n") {
		t.Errorf("end line:\n%s", buf.String())
	}
	p.RunStarted(run)
	p.RunEnded(run, &hpo.Report{}, fmt.Errorf("run: %w", context.Canceled))
	if !strings.Contains(buf.String(), "interrupted: 0 trials (0 failed) so far") {
		t.Errorf("interrupted line:\n%s", buf.String())
	}
}

// On the compute clock the line shows the run's compute time against its
// budget, so 100% means the run is done, and its wall time apart: a run
// that has used 12.3 s of its 15 s of compute time in 50 s of wall time
// is at 82%, not 100%.
func TestProgressLineComputeClock(t *testing.T) {
	r := reproduce.RunStatus{Index: 19, Total: 24, ID: reproduce.RunID{Algorithm: reproduce.PBT, Arm: "hgd", Seed: 1},
		Budget: 15 * time.Second, ComputeClock: true}
	c := reproduce.Counts{Trials: 5, Results: 12, Failed: 1, Best: 0.25, Elapsed: 12300 * time.Millisecond}
	for _, tc := range []struct {
		live bool
		want string
	}{
		{false, "[20/24] pbt-hgd-s1         compute 12.3s/15s ( 82%) · wall 50s  trials   5  results   12  failed  1  best acc 0.2500"},
		{true, "[20/24] pbt-hgd-s1         [=============   ] compute 12.3s/15s · wall 50s  trials   5  results   12  failed  1  best acc 0.2500"},
	} {
		if got := progressLine(r, c, 50*time.Second, tc.live); got != tc.want {
			t.Errorf("live %v:\n%s\nwant\n%s", tc.live, got, tc.want)
		}
	}
}

// On the wall clock the line shows the wall time against the budget, as
// it always has; the run's experiment time (Counts.Elapsed) does not show.
func TestProgressLineWallClock(t *testing.T) {
	r := reproduce.RunStatus{Index: 1, Total: 4, ID: reproduce.RunID{Algorithm: reproduce.ASHA, Arm: "sgd", Seed: 0}, Budget: time.Minute}
	c := reproduce.Counts{Trials: 3, Results: 7, Failed: 0, Best: 0.5, Elapsed: 41 * time.Second}
	for _, tc := range []struct {
		live bool
		want string
	}{
		{false, "[2/4] asha-sgd-s0        45s/1m0s ( 75%)  trials   3  results    7  failed  0  best acc 0.5000"},
		{true, "[2/4] asha-sgd-s0        [============    ]   45s/1m0s  trials   3  results    7  failed  0  best acc 0.5000"},
	} {
		if got := progressLine(r, c, 45*time.Second, tc.live); got != tc.want {
			t.Errorf("live %v:\n%s\nwant\n%s", tc.live, got, tc.want)
		}
	}
}
