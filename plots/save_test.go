package plots

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hgdtune/hgdtune/internal/testkit"
)

// Save writes atomically: a figure that fails to render leaves the file
// that was there untouched (it used to truncate it first).
func TestSaveKeepsOldFileOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curves.png")
	if err := os.WriteFile(path, []byte("old figure"), 0o644); err != nil {
		t.Fatal(err)
	}
	var empty Figure // renders nothing: ErrNoData
	if err := empty.Save(path); err == nil {
		t.Fatal("saving an empty figure succeeded")
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "old figure" {
		t.Errorf("the old file became %q, %v", b, err)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}

// Saved figures are ordinary 0644 files; a failing write names the file.
func TestSavePermissionsAndErrors(t *testing.T) {
	f, err := Curves(fixture(), CurvesConfig{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"c.png", "c.svg"} {
		path := filepath.Join(dir, name)
		if err := f.Save(path); err != nil {
			t.Fatal(err)
		}
		testkit.CheckMode(t, path, 0o644)
	}
	missing := filepath.Join(dir, "missing", "c.png")
	if err := f.Save(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("save into a missing folder: %v, want an error naming %s", err, missing)
	}
}
