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

	nbs, err := filepath.Glob("../notebooks/[0-9]*.ipynb")
	if err != nil || len(nbs) == 0 {
		t.Fatalf("no notebooks found (%v)", err)
	}
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
		found := false
		for _, c := range doc.Cells {
			src := strings.Join(c.Source, "")
			if c.Type == "code" && strings.Contains(src, "go get ") {
				found = true
				if want := "github.com/janpfeifer/gonb@" + gonb; !strings.Contains(src, want) {
					t.Errorf("%s: its go get cell does not require %s", filepath.Base(nb), want)
				}
			}
		}
		if !found {
			t.Errorf("%s: no go get cell", filepath.Base(nb))
		}
	}
}
