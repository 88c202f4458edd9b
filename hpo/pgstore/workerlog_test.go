package pgstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
)

// While the database fails, a worker's loop fails every poll, its message
// varying with what it was doing: the log shows each message once, then
// one line when the database answers, saying for how long it did not.
func TestTroubleLog(t *testing.T) {
	var tr trouble
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	down := errors.New("taking a task: failed to connect to 127.0.0.1:5432")
	downOwn := errors.New("looking for experiments: failed to connect to 127.0.0.1:5432")
	var lines []string
	log := func(s string) {
		if s != "" {
			lines = append(lines, s)
		}
	}
	log(tr.ok(t0))
	for i := range 20 { // 20 s of two loops polling every second
		log(tr.fail(t0.Add(time.Duration(i)*time.Second), down))
		log(tr.fail(t0.Add(time.Duration(i)*time.Second), downOwn))
	}
	log(tr.fail(t0.Add(20*time.Second), errors.New("terminating connection")))
	log(tr.fail(t0.Add(20*time.Second), down))
	log(tr.ok(t0.Add(21 * time.Second)))
	log(tr.ok(t0.Add(22 * time.Second)))
	want := []string{
		"worker: taking a task: failed to connect to 127.0.0.1:5432 (retrying; repeats are counted, not shown)",
		"worker: looking for experiments: failed to connect to 127.0.0.1:5432 (retrying; repeats are counted, not shown)",
		"worker: terminating connection (retrying; repeats are counted, not shown)",
		"worker: the database answers again after 21s (42 failed attempts)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// After the recovery, a new error is shown again.
	log(tr.fail(t0.Add(30*time.Second), down))
	if len(lines) != 5 {
		t.Errorf("an error after recovery was not shown: %q", lines)
	}
}

// A renewal period as long as the lease would lose every lease: refused
// before connecting.
func TestWorkerRenewShorterThanLease(t *testing.T) {
	lookup := func(context.Context, string, []byte) (hpo.Experiment, error) { return hpo.Experiment{}, nil }
	for _, w := range []*Worker{{Lookup: lookup, LeaseTTL: time.Second, Renew: time.Second}, {Lookup: lookup, Renew: -time.Second}} {
		if err := w.Run(context.Background(), "postgres://nobody@127.0.0.1:1/none"); !errors.Is(err, hpo.ErrInvalid) {
			t.Errorf("Renew %v with a lease of %v: %v, want ErrInvalid", w.Renew, w.ttl(), err)
		}
	}
}

// A Store renewing its lease as seldom as the lease lives would lose it:
// refused before connecting.
func TestRenewEveryShorterThanLease(t *testing.T) {
	for _, d := range []time.Duration{DefaultLeaseTTL, -time.Second} {
		if _, err := Open(context.Background(), "postgres://nobody@127.0.0.1:1/none", "x", []byte(`{}`), RenewEvery(d)); !errors.Is(err, hpo.ErrInvalid) {
			t.Errorf("RenewEvery(%v): %v, want ErrInvalid", d, err)
		}
	}
}
