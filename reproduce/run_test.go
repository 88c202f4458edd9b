package reproduce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/internal/dirlock"
	"github.com/hgdtune/hgdtune/internal/testkit"
)

// A folder in use by another experiment is refused before anything is
// written into it.
func TestRunLockedFolder(t *testing.T) {
	f := &fakeTrials{}
	o := fakeOptions(t, f, Random)
	l, err := dirlock.Acquire(o.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	_, err = Run(context.Background(), o)
	if !errors.Is(err, dirlock.ErrLocked) {
		t.Fatalf("Run on a locked folder: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("error does not name the holder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(o.Dir, "config.json")); err == nil {
		t.Error("config.json written into a locked folder")
	}
	if f.built != 0 {
		t.Errorf("%d trainables built", f.built)
	}
	// Once released, the folder runs, and Run releases it in turn.
	l.Unlock()
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	l2, err := dirlock.Acquire(o.Dir)
	if err != nil {
		t.Fatalf("Run kept the folder locked: %v", err)
	}
	l2.Unlock()
}

// Every file of the results folder is an ordinary 0644 file and every
// folder 0755 (with the usual umask 022).
func TestRunOutputPermissions(t *testing.T) {
	f := &fakeTrials{}
	o := fakeOptions(t, f, ASHA)
	s, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string{"config.json", "runs/asha-sgd-s0/results.csv", "runs/asha-hgd-s0/results.csv"}, s.Files...)
	for _, name := range []string{"summary.md", "table.tex", "curves.png", "curves.svg", "bars.png"} {
		found := false
		for _, w := range want {
			found = found || w == name
		}
		if !found {
			t.Errorf("Summary.Files lacks %s: %v", name, s.Files)
		}
	}
	for _, name := range want {
		testkit.CheckMode(t, filepath.Join(o.Dir, name), 0o644)
	}
	for _, name := range []string{".", "runs", "runs/asha-sgd-s0"} {
		testkit.CheckMode(t, filepath.Join(o.Dir, name), 0o755)
	}
}

// The progress view counts distinct trials (a trial resumed from its
// checkpoint is built again but is not a new trial) and every failure
// (factory, training, non-finite metric), as the journal records them. (A
// checkpoint that cannot be saved is no trial's failure: it stops the run
// with hpo.ErrStorage, see TestSaveFailureStopsRun.)
func TestProgressCounts(t *testing.T) {
	f := &fakeTrials{
		failFactory: map[hpo.TrialID]bool{1: true},
		nan:         map[hpo.TrialID]bool{3: true},
		failTrain:   map[hpo.TrialID]bool{5: true},
	}
	rec := &recorder{}
	o := fakeOptions(t, f, HyperBand)
	o.Preset.Arms = []string{"sgd"}
	o.Observer = rec
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	events, _, err := hpo.ReadJournal(filepath.Join(o.Dir, "runs", "hyperband-sgd-s0", "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	trials, failed := 0, 0
	for _, ev := range events {
		switch ev.Kind {
		case hpo.EvTrial:
			trials++
		case hpo.EvFail:
			failed++
		}
	}
	if f.built <= trials-len(f.failFactory) {
		t.Fatalf("no trial was built twice (%d built, %d trials): the test checks nothing", f.built, trials)
	}
	if failed != 3 {
		t.Fatalf("journal has %d failures, want 3", failed)
	}
	if len(rec.started) != 1 || len(rec.ended) != 1 {
		t.Fatalf("%d runs started, %d ended; want 1", len(rec.started), len(rec.ended))
	}
	e := rec.ended[0]
	for name, c := range map[string]Counts{"live": e.live, "report": ReportCounts(e.rep)} {
		if c.Trials != trials || c.Failed != failed {
			t.Errorf("%s counts %+v; the journal has %d trials, %d failed", name, c, trials, failed)
		}
	}
}

// Cancelled (Ctrl-C), Run says the experiment was interrupted and can be
// resumed, not "done: … ()" and a raw "context canceled".
func TestRunInterrupted(t *testing.T) {
	f := &fakeTrials{block: true, started: make(chan hpo.TrialID, 1)}
	rec := &recorder{}
	o := fakeOptions(t, f, Random)
	o.Observer = rec
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-f.started
		cancel()
	}()
	_, err := Run(ctx, o)
	if err == nil {
		t.Fatal("an interrupted Run returned no error")
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrInterrupted) {
		t.Errorf("error does not wrap context.Canceled and ErrInterrupted: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "interrupted during run random-sgd-s0") || !strings.Contains(msg, "to resume") ||
		strings.Contains(msg, "context canceled") {
		t.Errorf("error message: %q", msg)
	}
	if len(rec.ended) != 1 || rec.ended[0].run.ID.String() != "random-sgd-s0" || !errors.Is(rec.ended[0].err, context.Canceled) {
		t.Errorf("the observer was not told that random-sgd-s0 was interrupted: %+v", rec.ended)
	}
}

// A results file that cannot be written fails Run with an error naming it.
func TestRunSummaryWriteError(t *testing.T) {
	for _, name := range []string{"curves.png", "summary.md"} {
		t.Run(name, func(t *testing.T) {
			f := &fakeTrials{}
			o := fakeOptions(t, f, Random)
			o.Preset.Arms = []string{"sgd"}
			path := filepath.Join(o.Dir, name)
			if err := os.MkdirAll(path, 0o755); err != nil { // a folder where the file goes
				t.Fatal(err)
			}
			_, err := Run(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("Run = %v, want an error naming %s", err, path)
			}
		})
	}
}

// A checkpoint that cannot be saved (a full disk) stops the reproduction
// with an error wrapping hpo.ErrStorage instead of failing trials; the
// rerun, with the disk fixed, resumes and finishes.
func TestSaveFailureStopsRun(t *testing.T) {
	f := &fakeTrials{failSave: map[hpo.TrialID]bool{2: true}}
	o := fakeOptions(t, f, HyperBand)
	o.Preset.Arms = []string{"sgd"}
	if _, err := Run(context.Background(), o); !errors.Is(err, hpo.ErrStorage) {
		t.Fatalf("run with a failing save: %v, want hpo.ErrStorage", err)
	}
	f.failSave = nil
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatalf("rerun: %v", err)
	}
	events, _, err := hpo.ReadJournal(filepath.Join(o.Dir, "runs", "hyperband-sgd-s0", "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Kind == hpo.EvFail {
			t.Fatalf("a trial was journaled as failed: %+v", ev)
		}
	}
}

// Each run records its identity in run.json, which Load reads; a folder
// without run.json (written before it existed) is identified by its name,
// with the same results.
func TestRunFile(t *testing.T) {
	f := &fakeTrials{failTrain: map[hpo.TrialID]bool{2: true}}
	o := fakeOptions(t, f, PBT)
	o.Preset.Arms = []string{"hgd"}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(o.Dir, "runs", "pbt-hgd-s0")
	b, err := os.ReadFile(filepath.Join(run, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rf runFile
	if err := json.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	if want := (runFile{Algorithm: PBT, Arm: "hgd", Seed: 0, Dataset: o.Preset.Dataset}); rf != want {
		t.Fatalf("run.json records %+v, want %+v", rf, want)
	}
	want, err := Load(o.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if want.Runs != 1 || want.Results == 0 || want.Failed != 1 || len(want.Trajectories) == 0 {
		t.Fatalf("loaded %d runs, %d results, %d failed, %d trajectories", want.Runs, want.Results, want.Failed, len(want.Trajectories))
	}
	same := func(what string, got *Results) {
		t.Helper()
		if !reflect.DeepEqual(got.Experiment, want.Experiment) || !reflect.DeepEqual(got.Trajectories, want.Trajectories) ||
			got.Runs != want.Runs || got.Trials != want.Trials || got.Failed != want.Failed || got.Results != want.Results {
			t.Fatalf("%s: loaded %+v, want %+v", what, got, want)
		}
	}
	// Identified by run.json whatever the folder's name.
	renamed := filepath.Join(o.Dir, "runs", "renamed")
	if err := os.Rename(run, renamed); err != nil {
		t.Fatal(err)
	}
	got, err := Load(o.Dir)
	if err != nil {
		t.Fatal(err)
	}
	got.Dir = want.Dir
	same("renamed folder", got)
	// An older folder: no run.json, identified by its name.
	if err := os.Rename(renamed, run); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(run, "run.json")); err != nil {
		t.Fatal(err)
	}
	got, err = Load(o.Dir)
	if err != nil {
		t.Fatal(err)
	}
	same("without run.json", got)
}
