package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/hpo/pgstore"
	"github.com/hgdtune/hgdtune/internal/dirlock"
	"github.com/hgdtune/hgdtune/internal/redact"
	"github.com/hgdtune/hgdtune/reproduce"
)

// errInterrupted is the error of an interrupted reproduce (Ctrl-C,
// SIGTERM): everything done so far is in the results folder.
var errInterrupted = errors.New("interrupted; rerun the same command to resume")

func runReproduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hgdtune reproduce", flag.ContinueOnError)
	var df dataFlags
	df.register(fs)
	preset := fs.String("preset", "cpu-quick", "preset: "+strings.Join(reproduce.PresetNames(), ", "))
	out := fs.String("out", "", "results folder (default results/<preset>-<dataset>); rerun with the same folder to resume")
	be := fs.String("backend", "", backendFlagHelp)
	budget := fs.Duration("time", 0, fmt.Sprintf("override T, the budget of each run: compute time with -clock compute (the CPU presets), else wall-clock time (> 0, ≤ %v)", reproduce.BudgetLimit))
	seeds := fs.Int("seeds", 0, fmt.Sprintf("override the number of seeds (1 to %d)", reproduce.SeedsLimit))
	slots := fs.Int("slots", 0, fmt.Sprintf("override the trials trained at once within a run (1 to %d)", reproduce.SlotsLimit))
	algs := fs.String("algorithms", "", "override the algorithms (comma-separated: "+strings.Join(knownAlgorithms(), ",")+")")
	arms := fs.String("arms", "", "override the arms (sgd,hgd)")
	trainImages := fs.Int("train-images", 0, fmt.Sprintf("override the number of training images used (0: all, else 100 to %d)", reproduce.ImagesLimit))
	maxEpochs := fs.Int("max-epochs", 0, fmt.Sprintf("override the largest budget of a trial, in epochs (1 to %d)", reproduce.EpochsLimit))
	summaryOnly := fs.Bool("summary-only", false, "write again the summary, table and figures of -out from its journals (after an update of hgdtune's tables), training nothing")
	pbtReset := fs.Bool("pbt-reset", false, "PBT/PB2 exploits reset HGD's α and γ instead of copying the donor's")
	ashaMode := fs.String("asha-mode", "stopping", "form of ASHA and Async Hyperband: stopping (Ray Tune's schedulers) or promotion (Li et al.'s ASHA)")
	clock := fs.String("clock", "", "what -time measures: compute (steps charged a fixed cost: the same results on any machine; the CPU presets' default) or wall (the paper's wall clock; paper's default)")
	workers := fs.Int("workers", 0, "with -clock compute: trials that train at once for real (0: -slots); changes the wall time, never the results")
	storage := storageFlag(fs, "keep the runs in this database instead of -out (shared by every machine that runs the same reproduction)")
	name := fs.String("name", "", "with -storage: the reproduction's name in the database (default: -out's base name)")
	ckptDir := fs.String("checkpoints", "", "with -storage: keep the checkpoints in this folder (an absolute path that every machine mounts at the same place) instead of the database")
	remote := fs.Bool("remote", false, "with -storage: the trials are trained by workers (hgdtune worker) instead of this process")
	lrPrior := fs.String("lr-prior", "log", "prior of the SGD arm's learning rate on Table 2's [1e-5, 0.2]: log (log-uniform) or uniform")
	curves := fs.String("curves", "", "replay the runs on this curve pool (curves.json of hgdtune curves record) instead of training: Hyperband, ASHA, Async Hyperband and random search, on the compute clock, in seconds")
	costs := fs.String("costs", "", "with -clock compute: the cost model ("+strings.Join(reproduce.CostModelNames(), ", ")+
		"); default: the one -out was made with when it exists, else "+reproduce.CostsCurrent)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: hgdtune reproduce [flags]

Runs the paper's experiment: every HPO algorithm in the SGD and HGD arms for
several seeds, each under a wall-clock budget, then writes Tables 3/4 and
Figures 2-5 into the results folder. Resumable: rerun the same command.
A flag not given keeps the preset's value; a value out of range is an error.

flags:`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	p, err := lookupPreset(*preset, stderr)
	if err != nil {
		return err
	}
	// Only flags given on the command line override the preset, and each
	// is checked here, naming it, before the folder or the data are
	// touched.
	var bad []string
	var explicit []string // the recorded preset fields chosen on the command line (Preset.Resume)
	badf := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	fs.Visit(func(f *flag.Flag) {
		oneOf := func(v string, want ...string) {
			if !slices.Contains(want, v) {
				badf("-%s %q: want %s", f.Name, v, strings.Join(want, " or "))
			}
		}
		inRange := func(v, lo, hi int) {
			if v < lo || v > hi {
				badf("-%s %d: want %d to %d", f.Name, v, lo, hi)
			}
		}
		switch f.Name {
		case "dataset":
			oneOf(df.dataset, reproduce.DatasetCIFAR10, reproduce.DatasetCIFAR100)
			p.Dataset = df.dataset
		case "time":
			if *budget <= 0 || *budget > reproduce.BudgetLimit {
				badf("-time %v: want a duration > 0 and ≤ %v", *budget, reproduce.BudgetLimit)
			}
			p.Budget = reproduce.Duration(*budget)
		case "seeds":
			inRange(*seeds, 1, reproduce.SeedsLimit)
			p.Seeds = *seeds
		case "slots":
			inRange(*slots, 1, reproduce.SlotsLimit)
			p.Slots = *slots
		case "algorithms":
			if err := checkList(*algs, knownAlgorithms()); err != nil {
				badf("-algorithms %q: %v", *algs, err)
			}
			p.Algorithms = strings.Split(*algs, ",")
		case "arms":
			if err := checkList(*arms, []string{"sgd", "hgd"}); err != nil {
				badf("-arms %q: %v", *arms, err)
			}
			p.Arms = strings.Split(*arms, ",")
		case "train-images":
			if n := *trainImages; n != 0 && (n < 100 || n > reproduce.ImagesLimit) {
				badf("-train-images %d: want 0 (all) or 100 to %d", n, reproduce.ImagesLimit)
			}
			p.TrainImages = *trainImages
		case "max-epochs":
			inRange(*maxEpochs, 1, reproduce.EpochsLimit)
			p.MaxEpochs = *maxEpochs
			p.PerturbEvery = min(p.PerturbEvery, p.MaxEpochs)
		case "pbt-reset":
			p.PBTResetAdapted = *pbtReset
		case "asha-mode":
			oneOf(*ashaMode, "stopping", "promotion")
			p.ASHAMode = *ashaMode
		case "clock":
			oneOf(*clock, reproduce.ClockCompute, reproduce.ClockWall)
			p.Clock = *clock
			if p.Clock == reproduce.ClockWall {
				p.Clock, p.Workers = "", 0
			}
		case "workers":
			if *workers < 0 || *workers > reproduce.SlotsLimit {
				badf("-workers %d: want 0 (all slots) to %d", *workers, reproduce.SlotsLimit)
			}
			p.Workers = *workers
		case "costs":
			oneOf(*costs, reproduce.CostModelNames()...)
			p.Costs, explicit = *costs, append(explicit, "costs")
		case "lr-prior":
			oneOf(*lrPrior, reproduce.LRPriorLog, reproduce.LRPriorUniform)
			p.LRPrior = *lrPrior
			if p.LRPrior == reproduce.LRPriorLog {
				p.LRPrior = "" // the default is recorded as empty
			}
		}
	})
	if p.Workers > p.Slots {
		badf("-workers %d: want 0 (all slots) to -slots %d", p.Workers, p.Slots)
	} else if p.Workers > 0 && p.Clock != reproduce.ClockCompute {
		badf("-workers %d: needs -clock compute (with the wall clock every slot trains at once)", p.Workers)
	}
	if err := checkStorage(*storage, false); err != nil {
		badf("%v", err)
	}
	if err := checkName(*name); err != nil {
		badf("%v", err)
	}
	if *storage == "" && (*name != "" || *remote || *ckptDir != "") {
		badf("-name, -remote and -checkpoints need -storage")
	}
	if *ckptDir != "" && !filepath.IsAbs(*ckptDir) {
		badf("-checkpoints %q: want an absolute path (the same on every machine)", *ckptDir)
	}
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintf(stderr, "invalid flag %s\n", b)
		}
		return fmt.Errorf("%w: %s", errUsage, strings.Join(bad, "; "))
	}
	var pool *reproduce.Curves
	if *curves != "" {
		if *storage != "" {
			fmt.Fprintln(stderr, "invalid flag -curves with -storage: a replay trains nothing and is not shared")
			return fmt.Errorf("%w: -curves with -storage", errUsage)
		}
		var err error
		if pool, err = reproduce.LoadCurves(*curves); err != nil {
			return err
		}
		p.Replay = pool.ID()
		if err := pool.Fits(p); err != nil {
			return err
		}
	}
	if *out == "" {
		*out = filepath.Join("results", p.Name+"-"+p.Dataset)
		if pool != nil {
			*out += "-replay"
		}
	}
	if *summaryOnly {
		s, err := reproduce.Summarize(*out)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\nwrote %s in %s\n", s.Table.Markdown(), strings.Join(s.Files, ", "), *out)
		return err
	}
	// A folder is resumed with the cost model and algorithm variants it was
	// made with, saying so when they are not today's.
	if prev, ok, err := reproduce.Recorded(*out); err != nil {
		return err
	} else if ok {
		var notes []string
		p, notes = p.Resume(prev, explicit...)
		if len(notes) > 0 {
			fmt.Fprintf(stderr, "%s was made with %s: resuming with them\n", *out, strings.Join(notes, ", "))
		}
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if pool != nil {
		return replay(ctx, p, pool, *out, stdout, stderr)
	}
	df.dataset = p.Dataset
	spec, lock, err := lockAndCheck(ctx, p, *be, *out, *storage)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	sh := sharing{url: *storage, name: *name, remote: *remote, checkpoints: *ckptDir}
	err = reproduceLocked(ctx, p, &df, *out, spec, lock, sh, stdout, stderr)
	if err != nil && ctx.Err() != nil {
		return errInterrupted
	}
	return err
}

// lockAndCheck resolves and checks the backend, takes the results folder
// out for preset p (a folder in use, or made with another preset, is
// refused) and checks the database, if any: all before the data are
// loaded. The lock is held until the command ends.
func lockAndCheck(ctx context.Context, p reproduce.Preset, be, out, storage string) (string, *dirlock.Lock, error) {
	spec := backend.Resolve(be, nil)
	if err := backend.Check(spec); err != nil {
		return "", nil, err
	}
	lock, err := reproduce.Lock(out, p)
	if err != nil {
		return "", nil, err
	}
	if storage != "" {
		if err := pgstore.Check(ctx, storage); err != nil {
			lock.Unlock()
			return "", nil, err
		}
	}
	return spec, lock, nil
}

// reproduceLocked loads the data and runs the experiment in the locked
// folder.
func reproduceLocked(ctx context.Context, p reproduce.Preset, df *dataFlags, out, spec string, lock *dirlock.Lock,
	sh sharing, stdout, stderr io.Writer) error {
	data, err := df.loadTrain(ctx, stderr)
	if err != nil {
		return err
	}
	b, err := backend.New(spec)
	if err != nil {
		return err
	}
	defer b.Finalize()
	fmt.Fprintf(stderr, "backend %s; results in %s; %d runs of %v\n", backend.Describe(b, spec), out,
		len(p.Algorithms)*len(p.Arms)*p.Seeds, time.Duration(p.Budget))
	start := time.Now()
	prog := newRunProgress(stderr, 0, nil)
	o := reproduce.Options{Preset: p, Dir: out, Data: data, Backend: b, BackendSpec: spec,
		Observer: prog, Lock: lock}
	if sh.url != "" {
		o.Shared, o.Name, o.Remote = sh.open, sh.name, sh.remote
		where := "here"
		if sh.remote {
			where = "by workers (hgdtune worker)"
		}
		fmt.Fprintf(stderr, "runs kept in %s; trials trained %s\n", redact.URL(sh.url), where)
	}
	s, err := reproduce.Run(ctx, o)
	prog.stop()
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n%d trials (%d failed) in %v; wrote %s in %s\n", s.Table.Markdown(), s.Trials, s.Failed,
		time.Since(start).Round(time.Second), strings.Join(s.Files, ", "), out); err != nil {
		return fmt.Errorf("writing the summary to standard output: %w", err)
	}
	return nil
}

// replay runs the preset's runs on a curve pool in the results folder out.
func replay(ctx context.Context, p reproduce.Preset, pool *reproduce.Curves, out string, stdout, stderr io.Writer) error {
	lock, err := reproduce.Lock(out, p)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	fmt.Fprintf(stderr, "replay of curve pool %s (%d SGD, %d HGD configurations); results in %s; %d runs of %v\n",
		pool.ID(), len(pool.Arms["sgd"]), len(pool.Arms["hgd"]), out, len(p.Algorithms)*len(p.Arms)*p.Seeds, time.Duration(p.Budget))
	start := time.Now()
	prog := newRunProgress(stderr, 0, nil)
	s, err := reproduce.Run(ctx, reproduce.Options{Preset: p, Dir: out, Curves: pool, Observer: prog, Lock: lock})
	prog.stop()
	if err != nil {
		if ctx.Err() != nil {
			return errInterrupted
		}
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n%d trials (%d failed) replayed in %v; wrote %s in %s\n", s.Table.Markdown(), s.Trials, s.Failed,
		time.Since(start).Round(time.Millisecond), strings.Join(s.Files, ", "), out)
	return err
}

// sharing is reproduce's -storage, -name and -remote.
type sharing struct {
	url, name, checkpoints string
	remote                 bool
}

func (sh sharing) open(ctx context.Context, name string, settings []byte) (reproduce.SharedRun, error) {
	var opts []pgstore.Option
	if sh.checkpoints != "" {
		opts = append(opts, pgstore.CheckpointDir(sh.checkpoints))
	}
	st, err := pgstore.Open(ctx, sh.url, name, settings, opts...)
	if errors.Is(err, pgstore.ErrSettingsMismatch) {
		return nil, fmt.Errorf("%w: %w", reproduce.ErrSharedSettings, err)
	}
	return st, err
}

// lookupPreset returns the preset called name; an unknown name is a usage
// error, printed as an invalid flag.
func lookupPreset(name string, stderr io.Writer) (reproduce.Preset, error) {
	p, ok := reproduce.Presets()[name]
	if !ok {
		fmt.Fprintf(stderr, "invalid flag -preset %q: want %s\n", name, strings.Join(reproduce.PresetNames(), ", "))
		return p, fmt.Errorf("%w: unknown -preset %q", errUsage, name)
	}
	return p, nil
}

// knownAlgorithms lists the values of -algorithms.
func knownAlgorithms() []string { return append(reproduce.PaperAlgorithms(), reproduce.Random) }

// checkList checks a comma-separated list: not empty, each item known, none
// twice.
func checkList(list string, known []string) error {
	if list == "" {
		return errors.New("empty")
	}
	var seen []string
	for _, item := range strings.Split(list, ",") {
		if !slices.Contains(known, item) {
			return fmt.Errorf("unknown %q (want %s)", item, strings.Join(known, ", "))
		}
		if slices.Contains(seen, item) {
			return fmt.Errorf("%q listed twice", item)
		}
		seen = append(seen, item)
	}
	return nil
}
