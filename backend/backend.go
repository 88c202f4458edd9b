// Package backend chooses the GoMLX compute backend for hgdtune, explicitly.
//
// GoMLX, left to itself, prefers XLA when it is compiled in and then tries to
// download a PJRT plugin from the internet. hgdtune never lets that happen:
// the backend is resolved here, in this order, and the first that is set wins:
//
//  1. an explicit specification (a command-line flag such as -backend);
//  2. the GOMLX_BACKEND environment variable ("go", "xla:cuda",
//     "xla:/abs/path/xla_cuda_plugin.so", ...);
//  3. the HGDTUNE_PJRT_PLUGIN environment variable, the absolute path of a
//     PJRT plugin; it selects "xla:<path>";
//  4. the default, GoMLX's pure-Go backend ("go").
//
// The pure-Go backend is always compiled in and builds with CGO_ENABLED=0.
// XLA is compiled in only with the build tag "xla" (it needs cgo); asking for
// it in a binary built without the tag is a clear error, as is a missing
// plugin. Automatic plugin installation is always disabled.
//
// Build speed-sensitive binaries with GOEXPERIMENT=simd: the pure-Go
// backend then uses its AVX2/AVX-512 matrix multiplication.
package backend

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	// The pure-Go backend is always available.
	_ "github.com/gomlx/compute/gobackend"
)

// Environment variables read by Resolve.
const (
	// EnvBackend is GoMLX's own backend variable, "name[:config]".
	EnvBackend = compute.ConfigEnvVar
	// EnvPlugin is the absolute path of a PJRT plugin; when set (and no
	// backend is chosen otherwise) it selects XLA with that plugin.
	EnvPlugin = "HGDTUNE_PJRT_PLUGIN"
)

// Default is the backend used when nothing else is asked for.
const Default = "go"

// ErrNoXLA is returned when XLA is requested from a binary built without it.
var ErrNoXLA = errors.New("backend: XLA was requested but this binary was built without it; " +
	"rebuild with `-tags xla` (cgo required), or use -backend=go")

// Resolve returns the backend specification ("name[:config]") to use, from
// an explicit choice (may be empty) and the environment (getenv may be nil,
// meaning os.Getenv).
func Resolve(explicit string, getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if s := strings.TrimSpace(explicit); s != "" {
		return s
	}
	if s := strings.TrimSpace(getenv(EnvBackend)); s != "" {
		return s
	}
	if p := strings.TrimSpace(getenv(EnvPlugin)); p != "" {
		return "xla:" + p
	}
	return Default
}

// Name returns the backend name part of a specification ("xla" for "xla:cuda").
func Name(spec string) string {
	name, _, _ := strings.Cut(spec, ":")
	return name
}

// Available lists the backends compiled into this binary, sorted.
func Available() []string {
	l := compute.List()
	slices.Sort(l)
	return l
}

// IsXLA reports whether a backend name (or specification, "xla:cuda") names
// XLA under one of its aliases: xla, stablehlo, shlo, hlo.
func IsXLA(name string) bool {
	name = Name(name)
	switch name {
	case "xla", "stablehlo", "shlo", "hlo":
		return true
	}
	return false
}

// Check validates a specification without creating a backend: the named
// backend must be compiled in and an XLA plugin given as a path must exist.
func Check(spec string) error {
	name, cfg, _ := strings.Cut(spec, ":")
	if name == "" {
		return fmt.Errorf("backend: empty backend name in %q", spec)
	}
	if !slices.Contains(compute.List(), name) {
		if IsXLA(name) {
			return ErrNoXLA
		}
		return fmt.Errorf("backend: unknown backend %q in %q; this binary has %s", name, spec,
			strings.Join(Available(), ", "))
	}
	if IsXLA(name) {
		plugin, _, _ := strings.Cut(cfg, ",")
		if filepath.IsAbs(plugin) {
			if _, err := os.Stat(plugin); err != nil {
				return fmt.Errorf("backend: PJRT plugin %s: %w (set %s or %s to the absolute path of an "+
					"installed plugin, e.g. JAX's jax_plugins/xla_cuda13/xla_cuda_plugin.so)",
					plugin, err, EnvBackend, EnvPlugin)
			}
		}
	}
	return nil
}

// New creates the backend for a specification (use Resolve to get one).
// It never downloads anything: a missing plugin is an error that says what
// to install or which variable to set.
func New(spec string) (b compute.Backend, err error) {
	if err := Check(spec); err != nil {
		return nil, err
	}
	if IsXLA(Name(spec)) {
		disableAutoInstall()
	}
	// compute.NewWithConfig panics on some configuration errors; keep them errors.
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("backend: creating %q: %v", spec, r)
		}
	}()
	b, err = compute.NewWithConfig(spec)
	if err != nil {
		if IsXLA(Name(spec)) {
			return nil, fmt.Errorf("backend: creating %q: %w; give the plugin's absolute path as "+
				"%s=xla:/abs/path/plugin.so or %s=/abs/path/plugin.so (hgdtune never downloads plugins)",
				spec, err, EnvBackend, EnvPlugin)
		}
		return nil, fmt.Errorf("backend: creating %q: %w", spec, err)
	}
	return b, nil
}

// FromEnv resolves the backend from an explicit choice and the process
// environment and creates it. It returns the resolved specification too, so
// callers can log it and write it into results files.
func FromEnv(explicit string) (compute.Backend, string, error) {
	spec := Resolve(explicit, nil)
	b, err := New(spec)
	return b, spec, err
}

// Describe is a one-line human description of a backend, for logs and
// results files.
//
// For the pure-Go backend it adds the CPUs it computes on, "CPUs:
// GOMAXPROCS=2 of 2": GoMLX's own "parallelism=N" is the size of its pool of
// concurrent tasks, 2 × GOMAXPROCS by default (GoMLX compute's
// workerspool.New), not a number of CPUs. The pool runs the graph's
// independent operations; Go runs them on at most GOMAXPROCS threads, and
// the matrix multiplications split into at most GOMAXPROCS parts.
func Describe(b compute.Backend, spec string) string {
	if b == nil {
		return spec
	}
	d := b.Description()
	if Name(spec) == Default {
		d += fmt.Sprintf("; CPUs: GOMAXPROCS=%d of %d", runtime.GOMAXPROCS(0), runtime.NumCPU())
	}
	return fmt.Sprintf("%s (%s)", spec, d)
}
