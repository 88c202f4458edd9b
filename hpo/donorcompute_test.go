package hpo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
)

// failFirstCopy is a DirStorage whose first CopyCheckpoint fails as an
// unreadable donor checkpoint does (not a storage error).
type failFirstCopy struct {
	hpo.DirStorage
	copies int
}

func (f *failFirstCopy) CopyCheckpoint(ctx context.Context, src, dst string) error {
	f.copies++
	if f.copies == 1 {
		return errors.New("donor checkpoint unreadable")
	}
	return f.DirStorage.CopyCheckpoint(ctx, src, dst)
}

// On compute time, a donor checkpoint that cannot be copied fails the
// exploiting trial at once, at no cost, and the journal says so: a rerun
// replays the run (charging the failed job nothing again), and a run killed
// after the copy was journaled but before the failure was resumes to the
// journal of the uninterrupted run.
func TestMissingDonorCheckpointComputeTime(t *testing.T) {
	run := func(dir string, dropDone bool) (*hpo.Report, error) {
		e := computeExp(newSyncPBT(), 2, 1, 0, "")
		e.Storage = &failFirstCopy{DirStorage: hpo.DirStorage(dir)}
		// Every checkpoint stays, so that the folder with its journal cut
		// is a state the run went through.
		e.KeepCheckpoints = true
		return hpo.Run(context.Background(), e)
	}
	dir := t.TempDir()
	rep, err := run(dir, false)
	if err != nil {
		t.Fatalf("run with a missing donor checkpoint: %v", err)
	}
	var failed hpo.TrialID = -1
	for _, tr := range rep.Trials {
		switch {
		case tr.Status == hpo.Failed && strings.Contains(tr.Err, "copy trial"):
			failed = tr.ID
		case tr.Status == hpo.Failed:
			t.Errorf("trial %d failed with %q", tr.ID, tr.Err)
		}
	}
	if failed < 0 {
		t.Fatal("no trial failed on the copy")
	}
	want := journal(t, dir)

	// A rerun replays the whole journal.
	again, err := run(dir, true)
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	sameRecords(t, again, rep)

	// Killed right after the copy's checkpoint event: resumed, the journal
	// is the uninterrupted one.
	killed := t.TempDir()
	if err := os.CopyFS(killed, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(killed, "journal.jsonl")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(raw, []byte("\n"))
	cut := -1
	for i, line := range lines {
		var e hpo.Event
		if json.Unmarshal(line, &e) == nil && e.Kind == hpo.EvCheckpoint && e.Trial == failed && e.From != nil {
			cut = i + 1
		}
	}
	if cut < 0 {
		t.Fatalf("no checkpoint event of trial %d in the journal", failed)
	}
	if err := os.WriteFile(path, bytes.Join(lines[:cut], nil), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(killed, true); err != nil {
		t.Fatalf("resume after the kill: %v", err)
	}
	if got := journal(t, killed); !reflect.DeepEqual(got, want) {
		for i := range min(len(got), len(want)) {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("resumed journal differs at event %d: %+v, uninterrupted %+v", i, got[i], want[i])
			}
		}
		t.Fatalf("resumed journal has %d events, uninterrupted %d", len(got), len(want))
	}
}
