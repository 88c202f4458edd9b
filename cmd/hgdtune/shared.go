package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/hpo/pgstore"
	"github.com/hgdtune/hgdtune/internal/redact"
	"github.com/hgdtune/hgdtune/reproduce"
)

// envStorage is the default of every -storage flag.
const envStorage = "HGDTUNE_STORAGE"

// storageFlag registers -storage on fs.
func storageFlag(fs *flag.FlagSet, what string) *string {
	return fs.String("storage", os.Getenv(envStorage),
		what+": a PostgreSQL URL, postgres://user:password@host:5432/database (default $"+envStorage+")")
}

// checkStorage refuses a -storage that is not a PostgreSQL URL.
func checkStorage(url string, required bool) error {
	switch {
	case url == "" && required:
		return fmt.Errorf("-storage is required (or $%s): the PostgreSQL database shared by the machines", envStorage)
	case url == "":
		return nil
	case !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://"):
		return fmt.Errorf("-storage %q: want a postgres:// URL (local folders need no -storage)", redact.URL(url))
	}
	return nil
}

// checkName refuses a -name with characters that do not print (newlines,
// tabs, terminal escapes): it is shown in tables and progress lines.
func checkName(name string) error {
	for _, r := range name {
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) && r != ' ' {
			return fmt.Errorf("-name %q: want printable characters only", name)
		}
	}
	return nil
}

// parseStorageFlags parses the flags of a command that needs -storage.
func parseStorageFlags(fs *flag.FlagSet, args []string, stderr io.Writer, storage *string) error {
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if err := checkStorage(*storage, true); err != nil {
		fmt.Fprintf(stderr, "invalid flag %v\n", err)
		return errUsage
	}
	return nil
}

func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hgdtune worker", flag.ContinueOnError)
	var df dataFlags
	df.register(fs)
	storage := storageFlag(fs, "the database whose trials to train")
	be := fs.String("backend", "", backendFlagHelp)
	slots := fs.Int("slots", 1, "trials trained at once (1 to 64)")
	own := fs.Bool("own", true, "also run the scheduling of reproduction runs that no live process holds (a runner that died)")
	lease := fs.Duration("lease", pgstore.DefaultLeaseTTL, "how long a task (and a run) stays with a worker that stopped renewing it: how long a dead worker's trial waits (≥ 1s)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: hgdtune worker -storage postgres://… [flags]

Trains the trials that "hgdtune reproduce -storage … -remote" queues in the
database, on this machine, until interrupted (Ctrl-C gives its trials back
at once). With -own it also takes over the scheduling of runs whose
process died. Start one on each machine; they need the same data files.

flags:`)
		fs.PrintDefaults()
	}
	if err := parseStorageFlags(fs, args, stderr, storage); err != nil {
		return err
	}
	if *slots < 1 || *slots > 64 || *lease < time.Second {
		fmt.Fprintf(stderr, "invalid flag: -slots %d (want 1 to 64) or -lease %v (want ≥ 1s)\n", *slots, *lease)
		return errUsage
	}
	spec := backend.Resolve(*be, nil)
	if err := backend.Check(spec); err != nil {
		return err
	}
	b, err := backend.New(spec)
	if err != nil {
		return err
	}
	defer b.Finalize()
	load := func(ctx context.Context, dataset string) (*cifar.Dataset, error) {
		f := df
		f.dataset = dataset
		return f.loadTrain(ctx, stderr)
	}
	w := &pgstore.Worker{Slots: *slots, Own: *own, LeaseTTL: *lease, Log: stderr,
		Lookup: reproduce.Lookup(reproduce.LookupOptions{Backend: b, BackendSpec: spec, Load: load})}
	fmt.Fprintf(stderr, "worker on %s with %s, %d slots; Ctrl-C stops it\n", redact.URL(*storage), backend.Describe(b, spec), *slots)
	return w.Run(ctx, *storage)
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hgdtune status", flag.ContinueOnError)
	storage := storageFlag(fs, "the database to describe")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: hgdtune status -storage postgres://…

Shows the experiments of the database (trials, results, best so far, who
runs them, tasks waiting and in training) and its workers.

flags:`)
		fs.PrintDefaults()
	}
	if err := parseStorageFlags(fs, args, stderr, storage); err != nil {
		return err
	}
	o, err := pgstore.Status(ctx, *storage)
	if err != nil {
		return err
	}
	return o.Write(stdout)
}
