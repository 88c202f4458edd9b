package trainer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A checkpoint folder records the settings it was trained with, and a
// resume with other settings (another seed changes the 70/30 split,
// another batch size the steps the log holds) is refused before anything
// is read, naming each; budgets and evaluation settings may change. A
// folder that holds a checkpoint but lost its run.json is refused too: its
// log lines could not be told from a new run's.
func TestRunSettingsOnResume(t *testing.T) {
	dir := t.TempDir()
	settings := map[string]string{"seed": "0", "batch": "32", "lr": "0.01"}
	r, err := OpenRun(RunConfig{Checkpoint: dir, Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	// A checkpoint is in the folder now.
	if err := os.MkdirAll(filepath.Join(dir, CheckpointCurrent), 0o755); err != nil {
		t.Fatal(err)
	}
	other := map[string]string{"seed": "7", "batch": "64", "lr": "0.01"}
	_, err = OpenRun(RunConfig{Checkpoint: dir, Settings: other})
	if !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), "-batch 32 → 64") || !strings.Contains(err.Error(), "-seed 0 → 7") {
		t.Fatalf("resume with another seed and batch: %v, want ErrSettings naming both", err)
	}
	r, err = OpenRun(RunConfig{Checkpoint: dir, Settings: settings, Epochs: 5, EvalEvery: 3})
	if err != nil {
		t.Fatalf("resume with the same settings and other budgets: %v", err)
	}
	r.Close()
	if err := os.Remove(filepath.Join(dir, ckRunFile)); err != nil {
		t.Fatal(err)
	}
	_, err = OpenRun(RunConfig{Checkpoint: dir, Settings: settings})
	if !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), ckRunFile) {
		t.Fatalf("a checkpoint without run.json: %v, want ErrSettings naming run.json", err)
	}
}
