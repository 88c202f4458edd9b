package docker

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNotebookTools checks the tools module that scripts/notebooks.sh and the
// Dockerfile install GoNB, goimports and gopls from: it declares the three
// tools, pins each by an exact version, and pins the same GoNB that every
// notebook's first cell requires for gonbui (a kernel and a gonbui of
// different versions may not speak the same protocol).
func TestNotebookTools(t *testing.T) {
	b, err := os.ReadFile("../scripts/nbtools/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod := string(b)
	tools := regexp.MustCompile(`(?s)\ntool \((.*?)\)`).FindStringSubmatch(mod)
	if tools == nil {
		t.Fatal("scripts/nbtools/go.mod has no tool block")
	}
	for _, tool := range []string{"github.com/janpfeifer/gonb", "golang.org/x/tools/cmd/goimports", "golang.org/x/tools/gopls"} {
		if !strings.Contains(tools[1], "\t"+tool+"\n") {
			t.Errorf("tool %s is not declared in scripts/nbtools/go.mod", tool)
		}
	}
	version := func(module string) string {
		m := regexp.MustCompile(`\n\t` + regexp.QuoteMeta(module) + ` (v\S+)`).FindStringSubmatch(mod)
		if m == nil {
			t.Errorf("scripts/nbtools/go.mod does not require %s", module)
			return ""
		}
		return m[1]
	}
	gonb := version("github.com/janpfeifer/gonb")
	version("golang.org/x/tools/gopls")
	version("golang.org/x/tools")
	if _, err := os.Stat("../scripts/nbtools/go.sum"); err != nil {
		t.Errorf("the tools module has no go.sum: %v", err)
	}

	for name, cells := range notebookCodeCells(t) {
		found := false
		for _, src := range cells {
			if strings.Contains(src, "go get ") {
				found = true
				if want := "github.com/janpfeifer/gonb@" + gonb; !strings.Contains(src, want) {
					t.Errorf("%s: its go get cell does not require %s", name, want)
				}
			}
		}
		if !found {
			t.Errorf("%s: no go get cell", name)
		}
	}
}

// notebookCodeCells returns the sources of each notebook's code cells, in
// order, by file name; it fails t when there is no notebook.
func notebookCodeCells(t *testing.T) map[string][]string {
	t.Helper()
	nbs, err := filepath.Glob("../notebooks/[0-9]*.ipynb")
	if err != nil || len(nbs) == 0 {
		t.Fatalf("no notebooks found (%v)", err)
	}
	out := map[string][]string{}
	for _, nb := range nbs {
		b, err := os.ReadFile(nb)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Cells []struct {
				Type   string   `json:"cell_type"`
				Source []string `json:"source"`
			} `json:"cells"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", nb, err)
		}
		name := filepath.Base(nb)
		out[name] = []string{}
		for _, c := range doc.Cells {
			if c.Type == "code" {
				out[name] = append(out[name], strings.Join(c.Source, ""))
			}
		}
	}
	return out
}

// goMod returns the module's go.mod.
func goMod(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// toolchain returns the Go toolchain that go.mod names ("go1.27.3"), which
// the Makefile, scripts/notebooks.sh, the notebooks and the Dockerfile use.
func toolchain(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^toolchain (go\S+)$`).FindStringSubmatch(goMod(t))
	if m == nil {
		t.Fatal("go.mod names no toolchain")
	}
	return m[1]
}

// requires returns the versions go.mod requires, by module path.
func requires(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\t(\S+) (v\S+)`).FindAllStringSubmatch(goMod(t), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestNotebookPins checks every notebook's first code cell: it sets
// GOTOOLCHAIN to go.mod's toolchain before its go command runs (the
// hgdtune module needs Go 1.27; a kernel started by a Go 1.26 with
// GOTOOLCHAIN=local would refuse it), and every module@version it gets
// that go.mod also requires is go.mod's version (another one would move
// hgdtune's own dependencies, or fail).
func TestNotebookPins(t *testing.T) {
	tc, req := toolchain(t), requires(t)
	for name, cells := range notebookCodeCells(t) {
		if len(cells) == 0 {
			t.Errorf("%s has no code cell", name)
			continue
		}
		src := cells[0]
		env := strings.Index(src, "%env GOTOOLCHAIN "+tc+"\n")
		if env < 0 || env > strings.Index(src, "go ") {
			t.Errorf("%s: the first code cell does not set %%env GOTOOLCHAIN %s before its go command", name, tc)
		}
		for _, m := range regexp.MustCompile(`(\S+)@(v\S+)`).FindAllStringSubmatch(src, -1) {
			if want, ok := req[m[1]]; ok && m[2] != want {
				t.Errorf("%s: go get %s@%s, go.mod requires %s", name, m[1], m[2], want)
			}
		}
	}
}
