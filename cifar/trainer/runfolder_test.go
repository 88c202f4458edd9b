package trainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// saveCrashing runs the first n steps of a checkpoint save, as if the
// process had been killed after the n-th; it reports whether the save was
// complete (n is at least its number of steps).
func saveCrashing(t *testing.T, dir string, write func(string) error, n int) bool {
	t.Helper()
	steps := checkpointSwap(dir, write)
	for i, step := range steps {
		if i == n {
			return false
		}
		if err := step(); err != nil {
			t.Fatalf("save step %d: %v", i+1, err)
		}
	}
	return true
}

// writeMarker is a checkpoint writer: one file naming the checkpoint.
func writeMarker(name string) func(string) error {
	return func(folder string) error {
		return os.WriteFile(filepath.Join(folder, "marker"), []byte(name), 0o644)
	}
}

// loaded is the name of the checkpoint a resume would load ("" for none).
func loaded(t *testing.T, dir string) string {
	t.Helper()
	ck := findCheckpoint(dir)
	if ck == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(ck, "marker"))
	if err != nil {
		t.Fatalf("checkpoint %s is incomplete: %v", ck, err)
	}
	return string(b)
}

// A save killed between any two of its operations — including a save that
// itself starts from the state a killed save left — never leaves the folder
// without a complete checkpoint, and the next save cleans up.
func TestCheckpointSwapCrash(t *testing.T) {
	n := len(checkpointSwap(t.TempDir(), writeMarker("")))
	for k1 := 0; k1 <= n; k1++ {
		for k2 := 0; k2 <= n; k2++ {
			dir := t.TempDir()
			if err := saveCheckpoint(dir, writeMarker("old")); err != nil {
				t.Fatal(err)
			}
			done1 := saveCrashing(t, dir, writeMarker("new"), k1)
			got := loaded(t, dir)
			if got != "old" && got != "new" || done1 && got != "new" {
				t.Fatalf("crash after %d steps: loads %q (save complete: %v)", k1, got, done1)
			}
			done2 := saveCrashing(t, dir, writeMarker("newer"), k2)
			got = loaded(t, dir)
			if got == "" || done2 && got != "newer" {
				t.Fatalf("crash after %d, then %d steps: loads %q (save complete: %v)", k1, k2, got, done2)
			}
			if err := saveCheckpoint(dir, writeMarker("last")); err != nil {
				t.Fatal(err)
			}
			if got := loaded(t, dir); got != "last" {
				t.Fatalf("after crashes at %d and %d, a full save loads %q", k1, k2, got)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != CheckpointCurrent {
					t.Errorf("after crashes at %d and %d and a full save, %s remains", k1, k2, e.Name())
				}
			}
		}
	}
}

// A save whose writer fails leaves the current checkpoint alone.
func TestCheckpointWriteFails(t *testing.T) {
	dir := t.TempDir()
	if err := saveCheckpoint(dir, writeMarker("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	err := saveCheckpoint(dir, func(folder string) error {
		os.WriteFile(filepath.Join(folder, "marker"), []byte("ne"), 0o644)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("save error %v, want %v", err, boom)
	}
	if got := loaded(t, dir); got != "old" {
		t.Errorf("loads %q, want old", got)
	}
}

func TestTrimLog(t *testing.T) {
	start := func(run string, at int) string {
		return fmt.Sprintf(`{"event":"start","run":%q,"resumed_at":%d}`+"\n", run, at)
	}
	step := func(s int) string { return fmt.Sprintf(`{"event":"step","step":%d}`+"\n", s) }
	eval := func(s int) string { return fmt.Sprintf(`{"event":"eval","step":%d}`+"\n", s) }
	steps := func(from, to int) string {
		var b strings.Builder
		for s := from; s <= to; s++ {
			b.WriteString(step(s))
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, log string
		step      int
		noEval    bool // the checkpoint lacks the evaluation at step
		fresh     bool
		want      string
		dropped   int
	}{
		{"nothing beyond", start("R", 0) + steps(1, 4) + eval(4), 4, false, false,
			start("R", 0) + steps(1, 4) + eval(4), 0},
		{"evaluation not in the checkpoint", start("R", 0) + steps(1, 4) + eval(2) + eval(4), 4, true, false,
			start("R", 0) + steps(1, 4) + eval(2), 1},
		{"suffix", start("R", 0) + steps(1, 5) + eval(4) + step(6), 3, false, false,
			start("R", 0) + steps(1, 3), 4},
		{"partial last line", start("R", 0) + steps(1, 3) + `{"event":"st`, 3, false, false,
			start("R", 0) + steps(1, 3), 1},
		{"other runs stay", start("X", 0) + steps(1, 9) + start("R", 0) + steps(1, 5) + start("Y", 0) + steps(1, 2), 3, false, false,
			start("X", 0) + steps(1, 9) + start("R", 0) + steps(1, 3) + start("Y", 0) + steps(1, 2), 2},
		{"later sessions", start("R", 0) + steps(1, 4) + start("R", 2) + steps(3, 6) + start("R", 5) + steps(6, 7), 2, false, false,
			start("R", 0) + steps(1, 2) + start("R", 2), 9},
		{"fresh drops the run", start("X", 0) + steps(1, 2) + start("R", 0) + steps(1, 3), 0, false, true,
			start("X", 0) + steps(1, 2), 4},
		{"foreign lines stay", "not json\n" + start("R", 0) + steps(1, 2) + "{broken\n", 1, false, false,
			"not json\n" + start("R", 0) + steps(1, 1) + "{broken\n", 1},
		{"no start line: not ours", steps(1, 5), 2, false, false, steps(1, 5), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.jsonl")
			if err := os.WriteFile(path, []byte(tc.log), 0o644); err != nil {
				t.Fatal(err)
			}
			n, err := trimLog(path, "R", tc.step, !tc.noEval, tc.fresh)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("log after trimming:\n%s\nwant:\n%s", b, tc.want)
			}
			if n != tc.dropped {
				t.Errorf("dropped %d lines, want %d", n, tc.dropped)
			}
			if info, err := os.Stat(path); err == nil && info.Mode().Perm() != 0o644 {
				t.Errorf("mode %v", info.Mode().Perm())
			}
		})
	}
	if n, err := trimLog(filepath.Join(t.TempDir(), "none.jsonl"), "R", 3, true, false); n != 0 || err != nil {
		t.Errorf("missing log: %d, %v", n, err)
	}
}
