package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/hgdtune/hgdtune/backend"
)

// backendFlagHelp is the help of every -backend flag (see backend.Resolve).
const backendFlagHelp = "compute backend: go, xla:<plugin name or absolute path> (default $" +
	backend.EnvBackend + ", else xla with $" + backend.EnvPlugin + ", else go)"

func runEnv(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hgdtune env", flag.ContinueOnError)
	be := fs.String("backend", "", backendFlagHelp)
	var df dataFlags
	df.register(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "go:        %s %s/%s, %d CPUs\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintf(stdout, "backends:  %s compiled in\n", strings.Join(backend.Available(), ", "))
	b, spec, err := backend.FromEnv(*be)
	if err != nil {
		return err
	}
	defer b.Finalize()
	fmt.Fprintf(stdout, "backend:   %s\n", backend.Describe(b, spec))
	cfg, err := df.config(nil)
	if err != nil {
		return err
	}
	dataDir, cacheDir := cfg.Dirs()
	fmt.Fprintf(stdout, "data:      %s\ncache:     %s\n", dataDir, cacheDir)
	return nil
}
