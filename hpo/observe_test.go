package hpo_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
)

// OnEvent sees every event of a run in journal order: a resumed run first
// those it replays from the journal, then those it appends; the resume
// note and the header are the journal's own.
func TestOnEventSeesTheJournal(t *testing.T) {
	dir := t.TempDir()
	e, p := synth(mustASHA(t, asha.Config{MaxBudget: 9}), 2, 30, dir)
	p.FailRate = 0.2
	ctx, cancel := context.WithCancel(context.Background())
	var first []hpo.Event
	e.OnEvent = func(ev hpo.Event) {
		first = append(first, ev)
		if len(first) == 40 {
			cancel()
		}
	}
	if _, err := hpo.Run(ctx, e); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v, want it cancelled", err)
	}
	e2, p2 := synth(mustASHA(t, asha.Config{MaxBudget: 9}), 2, 30, dir)
	p2.FailRate = 0.2
	var seen []hpo.Event
	e2.OnEvent = func(ev hpo.Event) { seen = append(seen, ev) }
	if _, err := hpo.Run(context.Background(), e2); err != nil {
		t.Fatal(err)
	}
	events, _, err := hpo.ReadJournal(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var want []hpo.Event
	kinds := map[string]int{}
	for _, ev := range events {
		if ev.Kind != hpo.EvExperiment && ev.Kind != hpo.EvResume {
			want = append(want, key(ev))
			kinds[ev.Kind]++
		}
	}
	var got []hpo.Event
	for _, ev := range seen {
		got = append(got, key(ev))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OnEvent saw %d events, the journal holds %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
	if kinds[hpo.EvFail] == 0 || kinds[hpo.EvResult] == 0 || kinds[hpo.EvTrial] == 0 {
		t.Errorf("the journal lacks a kind of event: %v", kinds)
	}
	if len(first) < 40 || len(first) >= len(want) {
		t.Errorf("the first run saw %d events of %d: not an interrupted run", len(first), len(want))
	}
}

// key is what an observer may rely on: the event without its sequence
// number, wall time and checksum.
func key(e hpo.Event) hpo.Event {
	e.Seq, e.Sum, e.Time = 0, "", time.Time{}
	return e
}

func firstDiff(a, b []hpo.Event) int {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return i
		}
	}
	return min(len(a), len(b))
}
