package hpo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/internal/dirlock"
)

// diskFull makes Save fail with ENOSPC once `after` checkpoints were saved,
// while full is set: a full disk under the experiment's folder.
type diskFull struct {
	saves, after int
	full         bool
}

type fullSaver struct {
	hpo.Trainable
	d *diskFull
}

func (f fullSaver) Save(dir string) error {
	if f.d.full && f.d.saves >= f.d.after {
		return &os.PathError{Op: "write", Path: filepath.Join(dir, "state"), Err: syscall.ENOSPC}
	}
	f.d.saves++
	return f.Trainable.Save(dir)
}

func journalKinds(t *testing.T, dir string) map[string]int {
	t.Helper()
	events, _, err := hpo.ReadJournal(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range events {
		n[e.Kind]++
	}
	return n
}

// A checkpoint that cannot be written (a full disk) stops the experiment
// with ErrStorage — it is no trial's failure, and nothing is journaled as
// one — and once space is back the rerun resumes and ends exactly as an
// uninterrupted run (one slot: deterministic).
func TestSaveErrorStopsExperiment(t *testing.T) {
	ref, err := hpo.Run(context.Background(), func() hpo.Experiment {
		e, _ := synth(mustASHA(t, ashaPromotion()), 1, 12, t.TempDir())
		return e
	}())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	disk := &diskFull{after: 7, full: true}
	e, _ := synth(mustASHA(t, ashaPromotion()), 1, 12, dir)
	f := e.Factory
	e.Factory = func(ctx context.Context, id hpo.TrialID, c hpo.Config) (hpo.Trainable, error) {
		tr, err := f(ctx, id, c)
		return fullSaver{tr, disk}, err
	}
	_, err = hpo.Run(context.Background(), e)
	if !errors.Is(err, hpo.ErrStorage) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("run on a full disk: %v, want ErrStorage wrapping ENOSPC", err)
	}
	if n := journalKinds(t, dir); n[hpo.EvFail] != 0 || n[hpo.EvEnd] != 0 {
		t.Fatalf("journal after the full disk: %d failures, %d ends; want none", n[hpo.EvFail], n[hpo.EvEnd])
	}
	disk.full = false
	e2, _ := synth(mustASHA(t, ashaPromotion()), 1, 12, dir)
	rep, err := hpo.Run(context.Background(), e2)
	if err != nil {
		t.Fatalf("rerun with space back: %v", err)
	}
	if rep.Reason != ref.Reason {
		t.Fatalf("rerun ended with %q, uninterrupted with %q", rep.Reason, ref.Reason)
	}
	sameRecords(t, rep, ref)
}

// dropDonor wraps syncPBT and deletes the donor's checkpoint just before
// the first exploit decision reaches the runner.
type dropDonor struct {
	*syncPBT
	root    string
	dropped bool
}

func (s *dropDonor) drop(v hpo.View, d hpo.Decision) hpo.Decision {
	if d.Action == hpo.Exploit && !s.dropped {
		s.dropped = true
		if dt, ok := v.Trial(*d.From); ok && dt.Checkpoint != "" {
			os.RemoveAll(filepath.Join(s.root, "checkpoints", dt.Checkpoint))
		}
	}
	return d
}

func (s *dropDonor) Next(v hpo.View) hpo.Decision { return s.drop(v, s.syncPBT.Next(v)) }
func (s *dropDonor) OnResult(v hpo.View, r hpo.Result) hpo.Decision {
	return s.drop(v, s.syncPBT.OnResult(v, r))
}

// A donor checkpoint that is missing stops the run with a storage error
// naming it, instead of failing the exploiting trial (which would change
// the results); run again with the checkpoint still missing, it stops at
// the same place, journaling nothing more.
func TestMissingDonorCheckpoint(t *testing.T) {
	dir := t.TempDir()
	mk := func() hpo.Experiment {
		e, _ := synth(&dropDonor{syncPBT: newSyncPBT(), root: dir, dropped: true}, 1, 0, dir)
		return e
	}
	first := mk()
	first.Scheduler.(*dropDonor).dropped = false
	_, err := hpo.Run(context.Background(), first)
	if !errors.Is(err, hpo.ErrStorage) || !strings.Contains(err.Error(), "checkpoint t000001/b000002") {
		t.Fatalf("run with a missing donor checkpoint: %v, want a storage error naming the checkpoint", err)
	}
	before, rerr := os.ReadFile(filepath.Join(dir, "journal.jsonl"))
	if rerr != nil {
		t.Fatal(rerr)
	}
	_, err2 := hpo.Run(context.Background(), mk())
	if !errors.Is(err2, hpo.ErrStorage) || err2.Error() != err.Error() {
		t.Fatalf("rerun: %v, want the same storage error", err2)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "journal.jsonl"))
	if !bytes.Equal(before, after) {
		t.Error("the rerun journaled more")
	}
}

// Run locks its folder: a second experiment on it fails at once, naming
// the holder, and writes nothing.
func TestRunLocksDir(t *testing.T) {
	dir := t.TempDir()
	l, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	e, _ := synth(mustASHA(t, ashaPromotion()), 1, 4, dir)
	if _, err := hpo.Run(context.Background(), e); !errors.Is(err, dirlock.ErrLocked) {
		t.Fatalf("run on a locked folder: %v, want dirlock.ErrLocked", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "journal.jsonl")); !os.IsNotExist(err) {
		t.Fatalf("a journal was written: %v", err)
	}
}

func ashaPromotion() asha.Config { return asha.Config{MaxBudget: 9, Mode: asha.Promotion} }

// badRestore wraps a trainable whose Restore finds its checkpoint's data
// damaged (ErrCheckpointData), as a checksum that does not match does.
type badRestore struct{ hpo.Trainable }

func (b badRestore) Restore(string) error {
	return fmt.Errorf("checkpoint damaged: %w", hpo.ErrCheckpointData)
}

// A checkpoint whose data cannot be read back when a paused trial resumes
// stops the run with a storage error naming it; no trial is failed for it.
func TestUnreadableCheckpointStopsRun(t *testing.T) {
	dir := t.TempDir()
	e, _ := synth(mustASHA(t, ashaPromotion()), 1, 12, dir)
	build := e.Factory
	e.Factory = func(ctx context.Context, id hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
		tr, err := build(ctx, id, cfg)
		if err != nil {
			return nil, err
		}
		return badRestore{tr}, nil
	}
	_, err := hpo.Run(context.Background(), e)
	if !errors.Is(err, hpo.ErrStorage) || !errors.Is(err, hpo.ErrCheckpointData) || !strings.Contains(err.Error(), "cannot be read back") {
		t.Fatalf("a promoted trial whose checkpoint is damaged: %v, want a storage error naming the checkpoint", err)
	}
	rep, lerr := hpo.LoadReport(dir)
	if lerr != nil {
		t.Fatal(lerr)
	}
	for _, tr := range rep.Trials {
		if tr.Status == hpo.Failed {
			t.Errorf("trial %d failed: %s", tr.ID, tr.Err)
		}
	}
}

// A journal line that was changed — a result's accuracy raised, say — is
// refused with its line number, by LoadReport and by a resumed run; so is
// one removed from the middle. A journal without checksums (written before
// lines were sealed) still reads.
func TestEditedJournalRefused(t *testing.T) {
	dir := t.TempDir()
	e, _ := synth(mustASHA(t, ashaPromotion()), 1, 6, dir)
	if _, err := hpo.Run(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "journal.jsonl")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(orig), "\n")
	result := -1
	for i, l := range lines {
		if strings.Contains(l, `"ev":"result"`) {
			result = i
		}
	}
	if result < 0 {
		t.Fatal("no result in the journal")
	}
	accuracy := regexp.MustCompile(`"acc":[0-9.e-]+`)
	edited := append([]string{}, lines...)
	edited[result] = accuracy.ReplaceAllString(lines[result], `"acc":0.95`)
	removed := append(append([]string{}, lines[:result]...), lines[result+1:]...)
	for name, text := range map[string]string{"edited": strings.Join(edited, ""), "line removed": strings.Join(removed, "")} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("line %d:", result+1)
		if _, err := hpo.LoadReport(dir); !errors.Is(err, hpo.ErrJournal) || !strings.Contains(err.Error(), line) {
			t.Errorf("%s: LoadReport: %v, want ErrJournal at %s", name, err, line)
		}
		again, _ := synth(mustASHA(t, ashaPromotion()), 1, 6, dir)
		if _, err := hpo.Run(context.Background(), again); !errors.Is(err, hpo.ErrJournal) {
			t.Errorf("%s: resumed run: %v, want ErrJournal", name, err)
		}
	}
	sumField := regexp.MustCompile(`,"sum":"[0-9a-f]+"`)
	if err := os.WriteFile(path, sumField.ReplaceAll(orig, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := hpo.LoadReport(dir); err != nil {
		t.Errorf("a journal without checksums: %v", err)
	}
}
