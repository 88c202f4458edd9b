package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hgdtune/hgdtune/internal/dirlock"
	"github.com/hgdtune/hgdtune/reproduce"
)

// reproduceArgs is a reproduce command line whose data folder is empty,
// with downloading off: a command that got as far as loading data fails
// with "not found", so each test below can tell that it stopped earlier.
func reproduceArgs(t *testing.T, out string, extra ...string) []string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"reproduce", "-data", filepath.Join(dir, "data"), "-cache", filepath.Join(dir, "cache"),
		"-download=false", "-backend", "go", "-out", out}
	return append(args, extra...)
}

// Out-of-range values are refused, naming the flag, before the results
// folder is touched or any data is loaded; a flag given as 0 is an error,
// not "use the preset's value".
func TestReproduceRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct{ flag, value string }{
		{"time", "0"},
		{"time", "-1s"},
		{"time", "721h"}, // over 30 days
		{"seeds", "0"},
		{"seeds", "-1"},
		{"seeds", "99999999999"},
		{"seeds", "1001"},
		{"slots", "0"},
		{"slots", "-1"},
		{"slots", "1025"},
		{"max-epochs", "-1"},
		{"max-epochs", "0"},
		{"max-epochs", "10001"},
		{"train-images", "-5"},
		{"train-images", "50"},
		{"algorithms", ""},
		{"algorithms", "asha,bohb"},
		{"arms", ""},
		{"arms", "sgd,adam"},
		{"dataset", "mnist"},
		{"lr-prior", "normal"},
		{"clock", "sideways"},
		{"workers", "-1"},
		{"workers", "1025"},
		{"storage", "/tmp/a-folder"},
		{"name", "other"}, // without -storage
		{"remote", "true"},
		{"checkpoints", "/mnt/shared"}, // without -storage
		{"name", "a\nb"},
		{"name", "red\x1b[31m"},
	} {
		t.Run(tc.flag+"="+tc.value, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runCmd(t, reproduceArgs(t, out, "-"+tc.flag+"="+tc.value)...)
			if code == 0 {
				t.Fatalf("accepted; stdout %s", stdout)
			}
			if !strings.Contains(stderr, "-"+tc.flag) {
				t.Errorf("error does not name -%s:\n%s", tc.flag, stderr)
			}
			if strings.Contains(stderr, "not found") {
				t.Errorf("data were loaded before the flags were checked:\n%s", stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("the results folder was created before the flags were checked")
			}
		})
	}
}

// Values inside the bounds pass the checks (and fail later, at the data).
func TestReproduceAcceptsGoodFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runCmd(t, reproduceArgs(t, out, "-time=30s", "-seeds=1000", "-slots=1024",
		"-max-epochs=3", "-train-images=0", "-algorithms=asha,random", "-arms=hgd", "-lr-prior=uniform")...)
	if code != 1 || !strings.Contains(stderr, "not found") {
		t.Fatalf("code %d, want the missing data error:\n%s", code, stderr)
	}
}

// A second reproduce on a folder in use stops at once, naming the holder,
// before loading data (dirlock conflicts within one process too).
func TestReproduceLockedFolder(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	l, err := dirlock.Acquire(out)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	code, _, stderr := runCmd(t, reproduceArgs(t, out)...)
	if code != 1 {
		t.Fatalf("code %d:\n%s", code, stderr)
	}
	for _, want := range []string{"in use by another process", fmt.Sprintf("pid %d", os.Getpid()), out} {
		if !strings.Contains(stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "not found") {
		t.Errorf("data were loaded before the lock was taken:\n%s", stderr)
	}
	// Released, the folder is usable again (up to the missing data).
	l.Unlock()
	code, _, stderr = runCmd(t, reproduceArgs(t, out)...)
	if code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("after unlocking: code %d:\n%s", code, stderr)
	}
}

// A folder of another preset is refused before loading data, naming the
// fields that differ rather than dumping the whole preset.
func TestReproduceOtherPreset(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	p := reproduce.Presets()["cpu-quick"]
	b, err := json.Marshal(map[string]any{"preset": p, "backend": "go"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, reproduceArgs(t, out, "-seeds=3", "-time=20s")...)
	if code != 1 {
		t.Fatalf("code %d:\n%s", code, stderr)
	}
	for _, want := range []string{"another preset", "seeds: 2 → 3", "budget: 15s → 20s"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, stderr)
		}
	}
	for _, bad := range []string{`"algorithms"`, "not found"} {
		if strings.Contains(stderr, bad) {
			t.Errorf("error has %q:\n%s", bad, stderr)
		}
	}
}

// Interrupted (Ctrl-C cancels the context), the command says how to resume
// and fails, without the raw context error.
func TestReproduceInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var o, e bytes.Buffer
	code := run(ctx, reproduceArgs(t, filepath.Join(t.TempDir(), "out")), &o, &e)
	if code == 0 {
		t.Fatalf("code 0:\n%s", e.String())
	}
	if !strings.Contains(e.String(), "interrupted; rerun the same command to resume") {
		t.Errorf("stderr lacks the resume hint:\n%s", e.String())
	}
	if strings.Contains(e.String(), "context canceled") {
		t.Errorf("stderr has the raw context error:\n%s", e.String())
	}
}

// An unreachable database is refused, naming it without its password,
// before any data are loaded.
func TestReproduceUnreachableStorage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runCmd(t, reproduceArgs(t, out, "-storage", "postgres://me:secret-pw@127.0.0.1:1/hpo?connect_timeout=5")...)
	if code != 1 || !strings.Contains(stderr, "cannot connect to PostgreSQL") || !strings.Contains(stderr, "127.0.0.1:1") {
		t.Fatalf("code %d, want the unreachable database named:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "secret-pw") || strings.Contains(stderr, "not found") {
		t.Fatalf("the password was shown, or data were loaded:\n%s", stderr)
	}
}

// worker and status need a PostgreSQL URL.
func TestWorkerStatusFlags(t *testing.T) {
	t.Setenv(envStorage, "")
	for _, args := range [][]string{{"worker"}, {"status"}, {"worker", "-storage", "data/"}, {"status", "-storage", "x.db"},
		{"worker", "-storage", "postgres://h/db", "-slots", "0"}} {
		code, _, stderr := runCmd(t, args...)
		if code != 2 || !strings.Contains(stderr, "-") {
			t.Errorf("%v: code %d, want 2 with the flag named:\n%s", args, code, stderr)
		}
	}
	code, _, stderr := runCmd(t, "status", "-storage", "postgres://me:secret-pw@127.0.0.1:1/hpo?connect_timeout=5")
	if code != 1 || !strings.Contains(stderr, "cannot connect") || strings.Contains(stderr, "secret-pw") {
		t.Fatalf("status on a closed port: code %d:\n%s", code, stderr)
	}
}

// A folder made before cost models and algorithm variants had names (none
// recorded) is resumed with what it was made with, saying so; asking for
// another cost model explicitly is refused before any data are loaded,
// naming it.
func TestReproduceKeepsFolderCosts(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	p := reproduce.Presets()["cpu-study"]
	p.Costs, p.AHBWeights, p.GeneticMutation = reproduce.CostsGoMLX0282, reproduce.AHBWeightsHyperband, reproduce.GeneticMutationPerArm
	b, err := json.Marshal(map[string]any{"preset": p, "backend": "go"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "costs") || strings.Contains(string(b), "ahb_weights") || strings.Contains(string(b), "genetic_mutation") {
		t.Fatalf("the old model is written: %s", b)
	}
	if err := os.WriteFile(filepath.Join(out, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, reproduceArgs(t, out, "-preset=cpu-study")...)
	if code != 1 || !strings.Contains(stderr, "not found") {
		t.Fatalf("code %d, want the missing data error after the folder was accepted:\n%s", code, stderr)
	}
	if want := "made with costs " + reproduce.CostsGoMLX0282 + " (new folders get " + reproduce.CostsCurrent + "), ahb_weights hyperband (new folders get ray), genetic_mutation per-arm (new folders get shared): resuming with them"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	code, _, stderr = runCmd(t, reproduceArgs(t, out, "-preset=cpu-study", "-costs="+reproduce.CostsGoMLX02816)...)
	if code != 1 || strings.Contains(stderr, "not found") {
		t.Fatalf("code %d, want a refusal before loading data:\n%s", code, stderr)
	}
	if want := "costs: " + reproduce.CostsGoMLX0282 + " → " + reproduce.CostsGoMLX02816; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	code, _, stderr = runCmd(t, reproduceArgs(t, out, "-preset=cpu-study", "-costs=gomlx-v9")...)
	if code != 2 || !strings.Contains(stderr, "-costs") {
		t.Errorf("an unknown model: code %d:\n%s", code, stderr)
	}
}

// An unknown preset and a -workers above -slots are usage errors (exit
// 2, naming the flag), as the README documents for every flag value out of
// range; a -cache that is a file is refused, naming it.
func TestReproduceUsageExitCodes(t *testing.T) {
	for _, extra := range [][]string{{"-preset", "nope"}, {"-workers", "5"}, {"-slots", "2", "-workers", "3"}} {
		out := filepath.Join(t.TempDir(), "out")
		code, _, stderr := runCmd(t, reproduceArgs(t, out, extra...)...)
		if code != 2 || !strings.Contains(stderr, extra[len(extra)-2]) {
			t.Errorf("%v: code %d, want 2 naming %s:\n%s", extra, code, extra[len(extra)-2], stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: the results folder was created", extra)
		}
	}
	file := filepath.Join(t.TempDir(), "cache-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"data", "-data", t.TempDir(), "-download=false", "-cache", file},
		append(reproduceArgs(t, filepath.Join(t.TempDir(), "out")), "-cache", file),
	} {
		code, _, stderr := runCmd(t, args...)
		if code != 2 || !strings.Contains(stderr, "-cache") || !strings.Contains(stderr, "not a folder") {
			t.Errorf("%v: code %d, want 2 saying -cache is not a folder:\n%s", args[0], code, stderr)
		}
	}
}
