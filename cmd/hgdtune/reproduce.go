package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/reproduce"
)

func runReproduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hgdtune reproduce", flag.ContinueOnError)
	var df dataFlags
	df.register(fs)
	preset := fs.String("preset", "cpu-quick", "preset: "+strings.Join(reproduce.PresetNames(), ", "))
	out := fs.String("out", "", "results folder (default results/<preset>-<dataset>); rerun with the same folder to resume")
	be := fs.String("backend", "", backendFlagHelp)
	budget := fs.Duration("time", 0, "override T, the wall-clock budget of each run")
	seeds := fs.Int("seeds", 0, "override the number of seeds")
	slots := fs.Int("slots", 0, "override the trials trained at once within a run")
	algs := fs.String("algorithms", "", "override the algorithms (comma-separated: "+strings.Join(reproduce.PaperAlgorithms(), ",")+",random)")
	arms := fs.String("arms", "", "override the arms (sgd,hgd)")
	trainImages := fs.Int("train-images", -1, "override the number of training images used (0: all)")
	maxEpochs := fs.Int("max-epochs", 0, "override the largest budget of a trial, in epochs")
	pbtReset := fs.Bool("pbt-reset", false, "PBT/PB2 exploits reset HGD's α and γ instead of copying the donor's")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: hgdtune reproduce [flags]

Runs the paper's experiment: every HPO algorithm in the SGD and HGD arms for
several seeds, each under a wall-clock budget, then writes Tables 3/4 and
Figures 2-5 into the results folder. Resumable: rerun the same command.

flags:`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	p, ok := reproduce.Presets()[*preset]
	if !ok {
		return fmt.Errorf("unknown -preset %q (want %s)", *preset, strings.Join(reproduce.PresetNames(), ", "))
	}
	// Only flags given on the command line override the preset.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["dataset"] {
		p.Dataset = df.dataset
	}
	if *budget > 0 {
		p.Budget = reproduce.Duration(*budget)
	}
	if *seeds > 0 {
		p.Seeds = *seeds
	}
	if *slots > 0 {
		p.Slots = *slots
	}
	if *algs != "" {
		p.Algorithms = strings.Split(*algs, ",")
	}
	if *arms != "" {
		p.Arms = strings.Split(*arms, ",")
	}
	if *trainImages >= 0 {
		p.TrainImages = *trainImages
	}
	if *maxEpochs > 0 {
		p.MaxEpochs = *maxEpochs
		p.PerturbEvery = min(p.PerturbEvery, p.MaxEpochs)
	}
	if *pbtReset {
		p.PBTResetAdapted = true
	}
	if *out == "" {
		*out = filepath.Join("results", p.Name+"-"+p.Dataset)
	}
	if err := p.Validate(); err != nil {
		return err
	}
	df.dataset = p.Dataset
	spec := backend.Resolve(*be, nil)
	if err := backend.Check(spec); err != nil {
		return err
	}
	data, err := df.loadTrain(ctx, stderr)
	if err != nil {
		return err
	}
	b, err := backend.New(spec)
	if err != nil {
		return err
	}
	defer b.Finalize()
	fmt.Fprintf(stderr, "backend %s; results in %s; %d runs of %v\n", backend.Describe(b, spec), *out,
		len(p.Algorithms)*len(p.Arms)*p.Seeds, time.Duration(p.Budget))
	start := time.Now()
	s, err := reproduce.Run(ctx, reproduce.Options{Preset: p, Dir: *out, Data: data, Backend: b, BackendSpec: spec, Progress: stderr})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n%d trials (%d failed) in %v; wrote %s in %s\n", s.Table.Markdown(), s.Trials, s.Failed,
		time.Since(start).Round(time.Second), strings.Join(s.Files, ", "), *out)
	return nil
}
