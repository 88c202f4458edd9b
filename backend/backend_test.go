package backend

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name     string
		explicit string
		env      map[string]string
		want     string
	}{
		{"default", "", nil, "go"},
		{"explicit wins", "xla:cuda", map[string]string{EnvBackend: "go", EnvPlugin: "/p.so"}, "xla:cuda"},
		{"GOMLX_BACKEND", "", map[string]string{EnvBackend: "go", EnvPlugin: "/p.so"}, "go"},
		{"plugin path selects xla", "", map[string]string{EnvPlugin: "/abs/xla_cuda_plugin.so"}, "xla:/abs/xla_cuda_plugin.so"},
		{"blank values ignored", "  ", map[string]string{EnvBackend: " "}, "go"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Resolve(tc.explicit, env(tc.env)); got != tc.want {
				t.Errorf("Resolve = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNewGo(t *testing.T) {
	b, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if b.Name() == "" {
		t.Errorf("Name = %q", b.Name())
	}
	if d := Describe(b, "go"); !strings.HasPrefix(d, "go (") {
		t.Errorf("Describe = %q", d)
	}
}

// GoMLX's "parallelism=N" of the pure-Go backend is the size of its task
// pool, 2 × GOMAXPROCS by default, not a number of CPUs (it read "4" on a
// 2-CPU machine): Describe adds the CPUs the backend computes on.
func TestDescribeGoCPUs(t *testing.T) {
	b, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	d := Describe(b, "go")
	if want := fmt.Sprintf("parallelism=%d", 2*runtime.GOMAXPROCS(0)); !strings.Contains(d, want) {
		t.Errorf("Describe = %q lacks GoMLX's default %q: has GoMLX changed its default?", d, want)
	}
	if want := fmt.Sprintf("CPUs: GOMAXPROCS=%d of %d", runtime.GOMAXPROCS(0), runtime.NumCPU()); !strings.Contains(d, want) {
		t.Errorf("Describe = %q lacks %q", d, want)
	}
}

func TestCheckErrors(t *testing.T) {
	if err := Check("nosuch"); err == nil || !strings.Contains(err.Error(), "unknown backend") {
		t.Errorf("unknown backend: err = %v", err)
	}
	if err := Check(""); err == nil {
		t.Error("empty spec accepted")
	}
	err := Check("xla:/definitely/missing/plugin.so")
	if hasXLA() {
		if err == nil || !strings.Contains(err.Error(), "/definitely/missing/plugin.so") {
			t.Errorf("missing plugin: err = %v", err)
		}
	} else if !errors.Is(err, ErrNoXLA) {
		t.Errorf("xla without build tag: err = %v, want ErrNoXLA", err)
	}
	// New must surface the same errors, never panic.
	if _, err := New("nosuch:cfg"); err == nil {
		t.Error("New(nosuch) succeeded")
	}
}

func hasXLA() bool {
	for _, n := range Available() {
		if n == "xla" {
			return true
		}
	}
	return false
}
