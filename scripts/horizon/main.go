// Command horizon is the HGD horizon study: how the optimizers
// that adapt α (and γ) by hypergradients behave over many epochs on the
// case-1 CNN, from the default start and from bad starts, against
// SGD+momentum from the same start.
//
//	HGDTUNE_DATA=../shared/data GOEXPERIMENT=simd go run ./scripts/horizon            # the committed protocol
//	HGDTUNE_DATA=../shared/data GOEXPERIMENT=simd go run ./scripts/horizon -summary-only
//
// Protocol (every number is a flag): the first -train-images images of the
// CIFAR-10 training set, split 70/30 by class (seed 0); the case-1 network
// at -conv/-fc widths; batch -batch; -epochs epochs counted in steps
// (StepsPerEpoch of the training part), so the machine's speed or load
// changes nothing; validation accuracy on the first -eval-limit images of
// the 30% part after every epoch; α and γ every -trace-every steps. Each
// setting (see settings) runs from each start (see starts) with each seed
// 0 … -seeds−1; seed k fixes the weights and the batch order, so the runs
// of one seed and start are paired across settings.
//
// Each run is written to -out/runs/<setting>-<start>-s<k>.json when it
// ends; a rerun skips the runs already there (resumable), then writes
// -out/summary.md (tables: mean ± 95% Student-t interval over seeds at
// epochs 1, 5 and -epochs, and the paired difference to SGD+momentum from
// the same start with its interval and paired-t p) and the figures
// accuracy.png, alpha.png and gamma.png.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/internal/atomicfile"
)

// setting is one optimizer of the study.
type setting struct {
	Name string
	// Doc says what it is, for the summary.
	Doc string
	// Config returns the optimizer's configuration from the start (α0, γ0).
	Config func(alpha0, gamma0 float64) hgd.Config
	// UsesGamma: the setting has a momentum, so the starts that change γ0
	// apply to it.
	UsesGamma bool
}

// settings are the study's candidates, SGD+momentum first (the
// baseline of every paired comparison).
func settings() []setting {
	with := func(kind hgd.Kind, f func(c *hgd.Config)) func(a, g float64) hgd.Config {
		return func(a, g float64) hgd.Config {
			c := hgd.Defaults(kind)
			c.Alpha0 = a
			if kind.HasGamma() {
				c.Gamma0 = g
			}
			if f != nil {
				f(&c)
			}
			return c
		}
	}
	return []setting{
		{"sgd", "SGD+momentum at the start's α and γ (the paper's SGD arm)", with(hgd.Momentum, nil), true},
		{"hgd", "HGD, the paper's rule with the defaults β = 1e-4, η = 1e-2", with(hgd.HGD, nil), true},
		{"hgd-small", "HGD with β = 1e-5, η = 1e-3 (the CNN sweep's pick)", with(hgd.HGD, func(c *hgd.Config) { c.Beta, c.Eta = 1e-5, 1e-3 }), true},
		{"hgd-norm", "HGD, normalized (multiplicative) rule, β = η = 0.01", with(hgd.HGD, func(c *hgd.Config) { c.Normalized, c.Beta, c.Eta = true, 0.01, 0.01 }), true},
		{"hgd-ema", "HGD, hypergradients averaged (HyperEMA ρ = 0.99)", with(hgd.HGD, func(c *hgd.Config) { c.HyperEMA = 0.99 }), true},
		{"hgd-decay", "HGD, β and η decayed (HyperDecay τ = 500 steps)", with(hgd.HGD, func(c *hgd.Config) { c.HyperDecay = 500 }), true},
		{"hgd-floor", "HGD, α floored at α0/10 (AlphaMin)", with(hgd.HGD, func(c *hgd.Config) { c.AlphaMin = c.Alpha0 / 10 }), true},
		{"sgd-hd", "Baydin et al.'s SGD-HD (β = 1e-4, no momentum)", with(hgd.SGDHD, nil), false},
		{"sgdn-hd", "Baydin et al.'s SGDN-HD (β = 1e-4, Nesterov μ = γ0)", with(hgd.SGDNHD, nil), true},
		{"adam-hd", "Baydin et al.'s Adam-HD (β = 1e-7), α0 = the start's α0/10", func(a, g float64) hgd.Config {
			c := hgd.Defaults(hgd.AdamHD)
			c.Alpha0 = min(a/10, c.AlphaMax)
			return c
		}, false},
	}
}

// start is one starting point (α0, γ0).
type start struct {
	Name           string
	Alpha0, Gamma0 float64
	// Gamma: the start changes γ0 (so it is skipped for settings without
	// momentum, where it would repeat "default").
	Gamma bool
}

func starts() []start {
	return []start{
		{"default", 0.01, 0.9, false},
		{"lr-1e-4", 1e-4, 0.9, false},
		{"lr-0.2", 0.2, 0.9, false},
		{"mom-0.5", 0.01, 0.5, true},
		{"mom-0.99", 0.01, 0.99, true},
	}
}

// Run is one training: its settings and what it measured.
type Run struct {
	Setting, Start string
	Seed           int
	Optimizer      hgd.Config
	StepsPerEpoch  int
	// Acc[e] and Loss[e] are the validation accuracy and loss after epoch
	// e+1; a diverged run stops early (Diverged names the step). A value
	// that is not finite is stored as −1 (JSON has no NaN).
	Acc, Loss []float64
	Diverged  int `json:",omitempty"`
	// Trace holds (step, α, γ) every TraceEvery steps, from step 0.
	Trace      [][3]float64
	TraceEvery int
	Seconds    float64
}

type job struct {
	set  setting
	st   start
	seed int
}

func (j job) file(dir string) string {
	return filepath.Join(dir, "runs", fmt.Sprintf("%s-%s-s%d.json", j.set.Name, j.st.Name, j.seed))
}

type protocol struct {
	trainImages, epochs, batch, evalLimit, traceEvery, seeds int
	conv                                                     [3]int
	fc                                                       [2]int
}

func main() {
	dataDir := flag.String("data", os.Getenv(cifar.EnvData), "folder holding cifar-10-batches-bin/ (default $HGDTUNE_DATA)")
	out := flag.String("out", "docs/results/hgd-horizon", "results folder (resumable: finished runs are kept)")
	var p protocol
	flag.IntVar(&p.trainImages, "train-images", 5000, "first N images of the training set (split 70/30)")
	flag.IntVar(&p.epochs, "epochs", 20, "epochs per run, counted in steps")
	flag.IntVar(&p.batch, "batch", 32, "batch size")
	flag.IntVar(&p.evalLimit, "eval-limit", 1000, "validation images per evaluation")
	flag.IntVar(&p.traceEvery, "trace-every", 10, "record α and γ every this many steps")
	flag.IntVar(&p.seeds, "seeds", 3, "seeds per (setting, start)")
	conv := flag.String("conv", "16,32,64", "case-1 convolution widths")
	fc := flag.String("fc", "128,64", "case-1 hidden fully connected widths")
	only := flag.String("settings", "", "comma-separated settings to run (default all)")
	onlyStarts := flag.String("starts", "", "comma-separated starts to run (default all)")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "runs trained at once")
	summaryOnly := flag.Bool("summary-only", false, "write the summary and figures from the runs already there")
	flag.Parse()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "horizon:", err)
		os.Exit(1)
	}
	var err error
	w, err := cnn.ParseWidths(*conv, 3)
	if err != nil {
		fail(fmt.Errorf("-conv %w", err))
	}
	copy(p.conv[:], w)
	if w, err = cnn.ParseWidths(*fc, 2); err != nil {
		fail(fmt.Errorf("-fc %w", err))
	}
	copy(p.fc[:], w)
	if p.trainImages < 100 || p.epochs < 1 || p.batch < 1 || p.evalLimit < 1 || p.traceEvery < 1 || p.seeds < 1 || *workers < 1 {
		fail(errors.New("-train-images ≥ 100, and -epochs, -batch, -eval-limit, -trace-every, -seeds, -workers ≥ 1"))
	}
	jobs, err := plan(*only, *onlyStarts, p.seeds)
	if err != nil {
		fail(err)
	}
	if err := os.MkdirAll(filepath.Join(*out, "runs"), 0o755); err != nil {
		fail(err)
	}
	if *summaryOnly {
		if p, err = readProtocol(*out); err != nil {
			fail(err)
		}
	} else {
		if err := checkProtocol(*out, p); err != nil {
			fail(err)
		}
		if err := runAll(*dataDir, *out, p, jobs, *workers); err != nil {
			fail(err)
		}
	}
	runs, err := loadRuns(*out)
	if err != nil {
		fail(err)
	}
	if err := writeSummary(*out, p, runs); err != nil {
		fail(err)
	}
	fmt.Printf("wrote %s (%d runs)\n", filepath.Join(*out, "summary.md"), len(runs))
}

// plan lists the jobs: every setting × start (γ starts only where the
// setting has a momentum) × seed, filtered by the comma-separated names.
func plan(onlySettings, onlyStarts string, seeds int) ([]job, error) {
	pick := func(list string, known []string) (map[string]bool, error) {
		if list == "" {
			return nil, nil
		}
		m := map[string]bool{}
		for _, n := range strings.Split(list, ",") {
			if !slices.Contains(known, n) {
				return nil, fmt.Errorf("unknown name %q (known: %s)", n, strings.Join(known, ", "))
			}
			m[n] = true
		}
		return m, nil
	}
	var setNames, startNames []string
	for _, s := range settings() {
		setNames = append(setNames, s.Name)
	}
	for _, s := range starts() {
		startNames = append(startNames, s.Name)
	}
	ps, err := pick(onlySettings, setNames)
	if err != nil {
		return nil, err
	}
	pst, err := pick(onlyStarts, startNames)
	if err != nil {
		return nil, err
	}
	var jobs []job
	for seed := range seeds {
		for _, st := range starts() {
			for _, set := range settings() {
				if (ps != nil && !ps[set.Name]) || (pst != nil && !pst[st.Name]) || (st.Gamma && !set.UsesGamma) {
					continue
				}
				jobs = append(jobs, job{set, st, seed})
			}
		}
	}
	return jobs, nil
}

// runAll trains the jobs not yet on disk, workers at a time, and prints
// one line per finished run.
func runAll(dataDir, out string, p protocol, jobs []job, workers int) error {
	var todo []job
	for _, j := range jobs {
		if _, err := os.Stat(j.file(out)); errors.Is(err, fs.ErrNotExist) {
			todo = append(todo, j)
		}
	}
	fmt.Printf("%d runs, %d to train (%d already in %s)\n", len(jobs), len(todo), len(jobs)-len(todo), out)
	if len(todo) == 0 {
		return nil
	}
	ctx := context.Background()
	env, err := trainer.Setup{Data: cifar.Config{DataDir: dataDir}, Subset: p.trainImages}.Open(ctx)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Printf("%s; %d training and %d validation images\n", env.Describe(), env.Data.Train.Len(), env.Data.Val.Len())
	ch := make(chan job)
	var (
		mu    sync.Mutex
		done  int
		first error
		wg    sync.WaitGroup
	)
	begin := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				r, err := train(ctx, env, p, j)
				if err == nil {
					err = save(j.file(out), r)
				}
				mu.Lock()
				done++
				if err != nil && first == nil {
					first = err
				}
				last, end := math.NaN(), [3]float64{math.NaN(), math.NaN(), math.NaN()}
				if len(r.Acc) > 0 {
					last = r.Acc[len(r.Acc)-1]
				}
				if len(r.Trace) > 0 {
					end = r.Trace[len(r.Trace)-1]
				}
				fmt.Printf("[%d/%d %s] %-9s %-8s s%d: accuracy %.4f after %d epochs, α %.3g γ %.3g (%.0f s)\n",
					done, len(todo), time.Since(begin).Round(time.Second), j.set.Name, j.st.Name, j.seed, last, len(r.Acc),
					end[1], end[2], r.Seconds)
				mu.Unlock()
			}
		}()
	}
	for _, j := range todo {
		ch <- j
	}
	close(ch)
	wg.Wait()
	return first
}

// train runs one job. A diverged run is a result (Diverged), not an error.
func train(ctx context.Context, env *trainer.Env, p protocol, j job) (Run, error) {
	begin := time.Now()
	opt := j.set.Config(j.st.Alpha0, j.st.Gamma0)
	net := cnn.Default(cnn.Case1)
	net.Conv, net.FC = p.conv, p.fc
	t, err := env.New(trainer.Config{Net: net, BatchSize: p.batch, Optimizer: opt, EvalLimit: p.evalLimit, Seed: uint64(j.seed)})
	if err != nil {
		return Run{}, fmt.Errorf("%s %s s%d: %w", j.set.Name, j.st.Name, j.seed, err)
	}
	defer t.Close()
	r := Run{Setting: j.set.Name, Start: j.st.Name, Seed: j.seed, Optimizer: opt, StepsPerEpoch: t.StepsPerEpoch(), TraceEvery: p.traceEvery}
	r.Trace = append(r.Trace, [3]float64{0, finite(t.Alpha()), finite(t.Gamma())})
	for e := 1; e <= p.epochs && r.Diverged == 0; e++ {
		for t.Steps() < e*r.StepsPerEpoch {
			if _, err := t.Step(); err != nil {
				if errors.Is(err, trainer.ErrDiverged) {
					r.Diverged = t.Steps()
					break
				}
				return r, err
			}
			if t.Steps()%p.traceEvery == 0 {
				r.Trace = append(r.Trace, [3]float64{float64(t.Steps()), finite(t.Alpha()), finite(t.Gamma())})
			}
		}
		if r.Diverged != 0 {
			break
		}
		ev, err := t.Evaluate(ctx)
		if err != nil {
			return r, err
		}
		r.Acc, r.Loss = append(r.Acc, ev.Accuracy), append(r.Loss, finite(ev.Loss))
	}
	r.Seconds = time.Since(begin).Seconds()
	return r, nil
}

// finite is x, or −1 when x is NaN or infinite.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return -1
	}
	return x
}

func save(path string, r Run) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

// loadRuns reads every run of out/runs, naming a file it cannot read.
func loadRuns(out string) ([]Run, error) {
	names, err := filepath.Glob(filepath.Join(out, "runs", "*.json"))
	if err != nil {
		return nil, err
	}
	var runs []Run
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var r Run
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		runs = append(runs, r)
	}
	return runs, nil
}
