package hpo_test

import (
	"context"
	"errors"
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

// On compute time, a donor checkpoint that cannot be copied stops the run
// with a storage error naming it, journaling nothing for the copy; run
// again once the storage is sound, the run ends with the journal of a run
// that was never stopped.
func TestMissingDonorCheckpointComputeTime(t *testing.T) {
	run := func(dir string, failCopy bool) (*hpo.Report, error) {
		e := computeExp(newSyncPBT(), 2, 1, 0, "")
		if failCopy {
			e.Storage = &failFirstCopy{DirStorage: hpo.DirStorage(dir)}
		} else {
			e.Storage = hpo.DirStorage(dir)
		}
		return hpo.Run(context.Background(), e)
	}
	ref := t.TempDir()
	want, err := run(ref, false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err = run(dir, true)
	if !errors.Is(err, hpo.ErrStorage) || !errors.Is(err, hpo.ErrCheckpointData) || !strings.Contains(err.Error(), "checkpoint t000001/b000002") {
		t.Fatalf("run with an unreadable donor checkpoint: %v, want a storage error naming the checkpoint", err)
	}
	for _, tr := range journalTrials(t, dir) {
		if tr.Status == hpo.Failed {
			t.Errorf("trial %d was failed for the storage's problem: %s", tr.ID, tr.Err)
		}
	}
	got, err := run(dir, false)
	if err != nil {
		t.Fatalf("rerun on the sound storage: %v", err)
	}
	sameRecords(t, got, want)
	if a, b := journal(t, dir), journal(t, ref); !reflect.DeepEqual(a, b) {
		t.Errorf("the resumed journal (%d events) differs from the uninterrupted one (%d)", len(a), len(b))
	}
}

// journalTrials reads the trials of the experiment in dir so far.
func journalTrials(t *testing.T, dir string) []hpo.Trial {
	t.Helper()
	rep, err := hpo.LoadReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	return rep.Trials
}
