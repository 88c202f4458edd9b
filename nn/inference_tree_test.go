package nn

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// Every graph of the project that reads a model's variables — a function
// given to model.NewExec or model.MustNewExec anywhere in the tree — either
// trains (Store.SetTraining(g, true)) or calls Inference before anything
// else reads a variable; otherwise, on the pure-Go backend, it would keep
// the weights of its first call.
func TestEveryModelGraphReadsCurrentWeights(t *testing.T) {
	root := ".."
	found := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "docs") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "NewExec" && sel.Sel.Name != "MustNewExec") {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "model" {
				return true
			}
			for _, arg := range call.Args {
				lit, ok := arg.(*ast.FuncLit)
				if !ok {
					continue
				}
				found++
				if !callsAny(lit.Body, "SetTraining", "Inference") {
					t.Errorf("%s: a model graph that neither trains nor calls nn.Inference", path)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 2 { // the trainer's step and evaluation at least
		t.Errorf("found %d model graphs in the tree; the search is broken", found)
	}
}

// callsAny reports whether body calls a function or method of one of the
// names.
func callsAny(body ast.Node, names ...string) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return !found
		}
		var name string
		switch f := call.Fun.(type) {
		case *ast.Ident:
			name = f.Name
		case *ast.SelectorExpr:
			name = f.Sel.Name
		}
		for _, want := range names {
			found = found || name == want
		}
		return !found
	})
	return found
}
