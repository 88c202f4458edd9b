package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/internal/atomicfile"
	"github.com/hgdtune/hgdtune/internal/redact"
	"github.com/hgdtune/hgdtune/reproduce"
)

// runCurves is "hgdtune curves record": it records a curve pool.
func runCurves(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "record":
			return runCurvesRecord(ctx, args[1:], stdout, stderr)
		case "targets":
			return runCurvesTargets(ctx, args[1:], stdout, stderr)
		case "-h", "--help", "help":
			fmt.Fprintln(stdout, curvesUsage)
			return flag.ErrHelp
		}
	}
	fmt.Fprintln(stderr, curvesUsage)
	return fmt.Errorf("%w: want \"hgdtune curves record\" or \"hgdtune curves targets\"", errUsage)
}

const curvesUsage = `usage: hgdtune curves record [flags]
       hgdtune curves targets -curves FILE [flags]

record: records a curve pool: for each arm, configurations of the preset's
space trained once to its largest budget, evaluated after every epoch. The
pool (curves.json in -out) replays Hyperband, ASHA, Async Hyperband and
random search on the compute clock without training (hgdtune reproduce
-curves). Resumable: rerun the same command.

targets: replays a pool and compares the arms' times to target accuracies,
with intervals from a bootstrap over the pool's members.`

func runCurvesRecord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hgdtune curves record", flag.ContinueOnError)
	var df dataFlags
	df.register(fs)
	preset := fs.String("preset", "cpu-study", "preset whose data, space, epochs and cost model the pool records: "+strings.Join(reproduce.PresetNames(), ", "))
	out := fs.String("out", "", "pool folder (default results/curves-<preset>-<dataset>); rerun with the same folder to resume")
	be := fs.String("backend", "", backendFlagHelp)
	nSGD := fs.Int("sgd", 400, "configurations of the SGD arm (learning rates from ½ log-uniform + ½ uniform, so that both priors replay)")
	nHGD := fs.Int("hgd", 324, "configurations of the HGD arm (without repetition; 324 is the whole cpu presets' space)")
	slots := fs.Int("slots", 0, fmt.Sprintf("configurations trained at once (1 to %d; default: the preset's)", reproduce.SlotsLimit))
	workers := fs.Int("workers", 0, "with the compute clock: configurations that train at once for real (0: -slots)")
	storage := storageFlag(fs, "keep the recording in this database instead of -out (shared with workers: hgdtune worker)")
	name := fs.String("name", "", "with -storage: the recording's name in the database (default: -out's base name)")
	ckptDir := fs.String("checkpoints", "", "with -storage: keep the checkpoints in this folder (an absolute path that every machine mounts at the same place)")
	remote := fs.Bool("remote", false, "with -storage: the configurations are trained by workers (hgdtune worker)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, curvesUsage+"\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	p, err := lookupPreset(*preset, stderr)
	if err != nil {
		return err
	}
	var bad []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "dataset":
			p.Dataset = df.dataset
		case "slots":
			if *slots < 1 || *slots > reproduce.SlotsLimit {
				bad = append(bad, fmt.Sprintf("-slots %d: want 1 to %d", *slots, reproduce.SlotsLimit))
			}
			p.Slots = *slots
		case "workers":
			p.Workers = *workers
		}
	})
	p.Algorithms, p.Seeds, p.Budget = []string{reproduce.Recording}, 1, reproduce.Duration(reproduce.BudgetLimit)
	p.Arms, p.PoolSGD, p.PoolHGD = nil, 0, 0
	if *nSGD > 0 {
		p.Arms, p.PoolSGD = append(p.Arms, "sgd"), *nSGD
	}
	if *nHGD > 0 {
		p.Arms, p.PoolHGD = append(p.Arms, "hgd"), *nHGD
	}
	if p.Workers < 0 || p.Workers > p.Slots {
		bad = append(bad, fmt.Sprintf("-workers %d: want 0 (all slots) to -slots %d", p.Workers, p.Slots))
	}
	if *nSGD < 0 || *nHGD < 0 || len(p.Arms) == 0 {
		bad = append(bad, fmt.Sprintf("-sgd %d -hgd %d: want sizes ≥ 0, not both 0", *nSGD, *nHGD))
	}
	if err := checkStorage(*storage, false); err != nil {
		bad = append(bad, err.Error())
	}
	if err := checkName(*name); err != nil {
		bad = append(bad, err.Error())
	}
	if *storage == "" && (*name != "" || *remote || *ckptDir != "") {
		bad = append(bad, "-name, -remote and -checkpoints need -storage")
	}
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintf(stderr, "invalid flag %s\n", b)
		}
		return fmt.Errorf("%w: %s", errUsage, strings.Join(bad, "; "))
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join("results", "curves-"+p.Name+"-"+p.Dataset)
	}
	df.dataset = p.Dataset
	spec, lock, err := lockAndCheck(ctx, p, *be, *out, *storage)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	data, err := df.loadTrain(ctx, stderr)
	if err != nil {
		return err
	}
	b, err := backend.New(spec)
	if err != nil {
		return err
	}
	defer b.Finalize()
	fmt.Fprintf(stderr, "backend %s; pool in %s: %d SGD and %d HGD configurations, %d epochs each\n",
		backend.Describe(b, spec), *out, p.PoolSGD, p.PoolHGD, p.MaxEpochs)
	start := time.Now()
	prog := newRunProgress(stderr, 0, nil)
	o := reproduce.Options{Preset: p, Dir: *out, Data: data, Backend: b, BackendSpec: spec, Observer: prog, Lock: lock}
	if *storage != "" {
		sh := sharing{url: *storage, name: *name, remote: *remote, checkpoints: *ckptDir}
		o.Shared, o.Name, o.Remote = sh.open, sh.name, sh.remote
		fmt.Fprintf(stderr, "recording kept in %s\n", redact.URL(*storage))
	}
	c, err := reproduce.Record(ctx, o)
	prog.stop()
	if err != nil {
		if ctx.Err() != nil {
			return errInterrupted
		}
		return err
	}
	_, err = fmt.Fprintf(stdout, "pool %s: %d SGD and %d HGD configurations in %v; wrote %s\n", c.ID(),
		len(c.Arms["sgd"]), len(c.Arms["hgd"]), time.Since(start).Round(time.Second), filepath.Join(*out, reproduce.CurvesFile))
	return err
}

func runCurvesTargets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hgdtune curves targets", flag.ContinueOnError)
	path := fs.String("curves", "", "the curve pool (curves.json of hgdtune curves record); required")
	preset := fs.String("preset", "cpu-study", "preset the pool was recorded with: "+strings.Join(reproduce.PresetNames(), ", "))
	out := fs.String("out", "", "folder for targets-<prior>.md and the figures (default: the pool's folder)")
	prior := fs.String("lr-prior", "log", "prior of the SGD arm's learning rate: log or uniform")
	seeds := fs.Int("seeds", 200, fmt.Sprintf("seeds per algorithm and arm (1 to %d)", reproduce.SeedsLimit))
	budget := fs.Duration("time", 240*time.Second, "T, the compute-time budget of each run")
	algs := fs.String("algorithms", "hyperband,asha,ahb,random", "algorithms (replayable: hyperband, asha, ahb, random)")
	boot := fs.Int("boot", 200, "pool bootstrap replicates")
	bootSeeds := fs.Int("boot-seeds", 20, "seeds each bootstrap replicate replays")
	targets := fs.String("targets", "", "target accuracies, comma-separated (default: the 10%, 25% and 50% quantiles of the runs' best at T)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, curvesUsage+"\n\nflags of targets:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	p, ok := reproduce.Presets()[*preset]
	var bad []string
	if !ok {
		bad = append(bad, fmt.Sprintf("-preset %q: want %s", *preset, strings.Join(reproduce.PresetNames(), ", ")))
	}
	if *path == "" {
		bad = append(bad, "-curves: required")
	}
	if *prior != reproduce.LRPriorLog && *prior != reproduce.LRPriorUniform {
		bad = append(bad, fmt.Sprintf("-lr-prior %q: want log or uniform", *prior))
	}
	if err := checkList(*algs, knownAlgorithms()); err != nil {
		bad = append(bad, fmt.Sprintf("-algorithms %q: %v", *algs, err))
	}
	var ts []float64
	if *targets != "" {
		for _, f := range strings.Split(*targets, ",") {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil || !(v > 0 && v <= 1) {
				bad = append(bad, fmt.Sprintf("-targets %q: want accuracies in (0, 1]", *targets))
				break
			}
			ts = append(ts, v)
		}
	}
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintf(stderr, "invalid flag %s\n", b)
		}
		return fmt.Errorf("%w: %s", errUsage, strings.Join(bad, "; "))
	}
	pool, err := reproduce.LoadCurves(*path)
	if err != nil {
		return err
	}
	p.Algorithms, p.Seeds, p.Budget, p.Replay = strings.Split(*algs, ","), *seeds, reproduce.Duration(*budget), pool.ID()
	p.LRPrior = *prior
	if p.LRPrior == reproduce.LRPriorLog {
		p.LRPrior = ""
	}
	if *out == "" {
		*out = filepath.Dir(*path)
	}
	start := time.Now()
	last := time.Time{}
	progress := func(done, total int) {
		if now := time.Now(); now.Sub(last) >= 5*time.Second || done == total {
			last = now
			el := now.Sub(start)
			left := time.Duration(float64(el) / float64(done) * float64(total-done))
			fmt.Fprintf(stderr, "replayed %d/%d runs (%3.0f%%) · %s · left ≈ %s\n", done, total, 100*float64(done)/float64(total),
				el.Round(time.Second), left.Round(time.Second))
		}
	}
	r, err := reproduce.Targets(ctx, reproduce.TargetOptions{Preset: p, Curves: pool, Targets: ts, Boot: *boot, BootSeeds: *bootSeeds, Progress: progress})
	if err != nil {
		if ctx.Err() != nil {
			return errInterrupted
		}
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	files, err := r.Figures(*out, *prior+"-")
	if err != nil {
		return err
	}
	md := fmt.Sprintf("# Time to target on curve pool %s (%s prior)\n\n"+
		"Command: `hgdtune curves targets -curves %s -lr-prior %s -seeds %d -time %v -algorithms %s -boot %d -boot-seeds %d`; replayed in %v.\n\n%s\n"+
		"![share of runs that reached each target](%sreached.png)\n\n![best accuracy over time](%sanytime.png)\n",
		pool.ID(), *prior, filepath.Base(*path), *prior, *seeds, *budget, *algs, *boot, *bootSeeds, time.Since(start).Round(time.Second),
		r.Markdown(), *prior+"-", *prior+"-")
	name := "targets-" + *prior + ".md"
	if err := atomicfile.WriteFile(filepath.Join(*out, name), []byte(md), 0o644); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\nwrote %s, %s in %s\n", r.Markdown(), name, strings.Join(files, ", "), *out)
	return err
}
