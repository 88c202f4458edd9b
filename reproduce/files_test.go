package reproduce

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hgdtune/hgdtune/internal/testkit"
)

// Results files are ordinary files (0644 with the usual umask 022), not
// os.CreateTemp's private 0600.
func TestWriteFilePermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.csv")
	if err := writeFileAtomic(path, []byte("a,b\n")); err != nil {
		t.Fatal(err)
	}
	testkit.CheckMode(t, path, 0o644)
}

// A failing write is an error naming the file, whatever the cause.
func TestWriteFileErrorNamesPath(t *testing.T) {
	dir := t.TempDir()
	// Rename over a folder fails even for root (a read-only folder does not).
	if err := os.Mkdir(filepath.Join(dir, "summary.md"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		filepath.Join(dir, "missing", "summary.md"),
		filepath.Join(dir, "summary.md"),
	} {
		err := writeFileAtomic(path, []byte("x"))
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("write to %s: %v, want an error naming it", path, err)
		}
	}
	// No temporary file is left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "summary.md" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// A run folder names its arm in run.json or in its name: an arm that is
// not one is an error naming the file (run.json), or no run (a folder's
// name), never a run counted in the SGD arm.
func TestReadRunIDArms(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "asha-hgd-s1")
	bad := filepath.Join(dir, "asha-xyz-s2")
	for _, d := range []string{good, bad} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if id, ok, err := readRunID(good); err != nil || !ok || id != (RunID{"asha", "hgd", 1}) {
		t.Errorf("a run folder's name: %v %v %v", id, ok, err)
	}
	if id, ok, err := readRunID(bad); err != nil || ok {
		t.Errorf("a folder named with an unknown arm: %v %v %v, want no run", id, ok, err)
	}
	if err := os.WriteFile(filepath.Join(bad, "run.json"), []byte(`{"algorithm":"asha","arm":"xyz","seed":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readRunID(bad); err == nil || !strings.Contains(err.Error(), "run.json") || !strings.Contains(err.Error(), "xyz") {
		t.Errorf("run.json with an unknown arm: %v, want an error naming the file and the arm", err)
	}
}

// A shared run whose settings name an unknown arm is refused, naming it,
// not counted in the SGD arm.
func TestLoadSharedRefusesUnknownArm(t *testing.T) {
	p := Presets()["cpu-quick"]
	_, err := LoadShared([]SharedRunReport{{Settings: RunSettings{Preset: p, Algorithm: "asha", Arm: "xyz"}}})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "xyz") {
		t.Errorf("LoadShared: %v, want ErrConfig naming the arm", err)
	}
}
