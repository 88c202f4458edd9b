package killtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
)

func TestJournalLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "journal.jsonl")
	if n := journalLines(p); n != 0 {
		t.Fatalf("missing journal: %d lines, want 0", n)
	}
	if err := os.WriteFile(p, []byte("{}\n{}\n{\"torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := journalLines(p); n != 2 {
		t.Fatalf("%d complete lines, want 2 (the torn one does not count)", n)
	}
}

func TestResumable(t *testing.T) {
	ev := func(kinds ...string) []hpo.Event {
		var out []hpo.Event
		for _, k := range kinds {
			out = append(out, hpo.Event{Kind: k})
		}
		return out
	}
	for _, c := range []struct {
		events []hpo.Event
		want   bool
	}{
		{nil, false},
		{ev(hpo.EvExperiment), false},                              // only the header: a fresh start
		{ev(hpo.EvExperiment, hpo.EvResume), false},                // nothing to replay
		{ev(hpo.EvExperiment, hpo.EvDecision), true},               // replays, then goes on
		{ev(hpo.EvExperiment, hpo.EvDecision, hpo.EvResume), true}, // killed after its resume
		{ev(hpo.EvExperiment, hpo.EvDecision, hpo.EvEnd), false},   // over: replays only
		{ev(hpo.EvExperiment, hpo.EvResult, hpo.EvDecision), true}, // mid-run
	} {
		if got := resumable(c.events); got != c.want {
			t.Errorf("resumable(%v) = %v, want %v", c.events, got, c.want)
		}
	}
}
