// Package docs holds the project's documents; its test checks them against
// the code.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository's root, the folder above this one.
const repoRoot = ".."

// walkGo calls fn with the path and contents of every Go file of the
// repository (not under .git, node_modules or testdata).
func walkGo(t *testing.T, fn func(path string, b []byte)) {
	t.Helper()
	err := filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fn(p, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// definedTests returns the names of every test function in the repository.
func definedTests(t *testing.T) map[string]bool {
	t.Helper()
	def := regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	tests := map[string]bool{}
	walkGo(t, func(p string, b []byte) {
		if strings.HasSuffix(p, "_test.go") {
			for _, m := range def.FindAllSubmatch(b, -1) {
				tests[string(m[1])] = true
			}
		}
	})
	return tests
}

// Every test that README.md, CONTRIBUTING.md and docs/guarantees.md name as
// the evidence of a promise exists.
func TestNamedTestsExist(t *testing.T) {
	tests := definedTests(t)
	named := regexp.MustCompile("`(Test\\w+)`")
	for _, doc := range []string{"README.md", "CONTRIBUTING.md", "docs/guarantees.md"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, doc))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range named.FindAllSubmatch(b, -1) {
			n++
			if !tests[string(m[1])] {
				t.Errorf("%s names %s, which no test file defines", doc, m[1])
			}
		}
		if doc == "docs/guarantees.md" && n < 40 {
			t.Errorf("%s names only %d tests", doc, n)
		}
	}
}

// The README fits in 300 lines, and its first screen answers a newcomer:
// what it is, the result with its evidence, then how to run it.
func TestReadmeShape(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 300 {
		t.Errorf("README.md has %d lines, more than 300", len(lines))
	}
	var sections []string
	for _, l := range lines {
		if strings.HasPrefix(l, "## ") {
			sections = append(sections, strings.TrimPrefix(l, "## "))
		}
	}
	if len(sections) < 2 || sections[0] != "The result so far" || sections[1] != "Quickstart" {
		t.Errorf("README.md's first sections are %q, want the result, then the quickstart", sections[:min(2, len(sections))])
	}
	if !strings.Contains(string(b), "](docs/results/") {
		t.Error("README.md links no evidence under docs/results")
	}
}

// history matches narration of how things came to be, which the README,
// the contributor guide and the Go comments (package docs, flag help) must
// not hold; docs/results pages are dated records and may.
var history = regexp.MustCompile(`(?i)\bissues? #?\d+|\bas they land\b|design sketch|first sketched|\bearlier versions?\b|\bbefore issue\b|\bpreviously\b|\bused to be\b`)

func TestNoHistoryInDocs(t *testing.T) {
	check := func(path string, text string) {
		for i, l := range strings.Split(text, "\n") {
			if m := history.FindString(l); m != "" {
				t.Errorf("%s:%d tells history (%q): %s", path, i+1, m, strings.TrimSpace(l))
			}
		}
	}
	for _, doc := range []string{"README.md", "CONTRIBUTING.md", "docs/guarantees.md"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, doc))
		if err != nil {
			t.Fatal(err)
		}
		check(doc, string(b))
	}
	walkGo(t, func(p string, b []byte) {
		if !strings.HasSuffix(p, "_test.go") {
			check(strings.TrimPrefix(p, repoRoot+"/"), string(b))
		}
	})
}
