package reproduce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gomlx/compute"

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/hpo/hyperband"
	"github.com/hgdtune/hgdtune/internal/atomicfile"
	"github.com/hgdtune/hgdtune/internal/dirlock"
)

// Options configure Run.
type Options struct {
	Preset Preset
	// Dir is the results folder (created if missing).
	Dir string
	// Data is the full training set of the preset's data set.
	Data *cifar.Dataset
	// Backend runs the models; BackendSpec is its specification ("go",
	// "xla:…"), recorded in the results and used to choose the layers.
	Backend     compute.Backend
	BackendSpec string
	// Observer follows the runs (a progress display); nil: none. Run calls
	// it from its own goroutine.
	Observer Observer
	// Lock, if set, is the caller's lock of Dir, taken with Lock before
	// preparing the data so that a second process fails at once; Run then
	// neither takes nor releases it. Nil: Run holds Dir's lock while it
	// runs.
	Lock *dirlock.Lock

	// Shared, when set, keeps the runs' journals and checkpoints in a
	// storage that several machines share (hgdtune reproduce -storage:
	// PostgreSQL) instead of the results folder: run r is the experiment
	// "<Name>/<r>" there, created with its RunSettings, and its journal is
	// copied into runs/<r>/journal.jsonl when it ends, so that the folder
	// reads as usual. Several processes (on several machines) running the
	// same reproduction share its runs: each runs those nobody holds and
	// waits for the others. Every run's experiment is opened before any
	// training, so a name used with other settings is refused at once.
	Shared Shared
	// Name names the reproduction in Shared (default: the base name of
	// Dir).
	Name string
	// Remote: with Shared, the trials are trained by the database's
	// workers (hgdtune worker) instead of this process.
	Remote bool
	// Wait is how often to look again at runs that other processes hold
	// (default 5 s).
	Wait time.Duration

	// Test seams, nil in real use: newTrainable replaces the CNN trainer,
	// runClock the wall clock of the runs' budgets.
	newTrainable hpo.Factory
	runClock     hpo.Clock
}

// Objective returns the objective of every run: validation accuracy
// (trainer.MetricAccuracy), maximized.
func Objective() hpo.Metric { return hpo.Metric{Name: trainer.MetricAccuracy, Goal: hpo.Maximize} }

// runInfo is what config.json records.
type runInfo struct {
	Preset    Preset    `json:"preset"`
	Backend   string    `json:"backend"`
	Machine   string    `json:"machine"`
	GoVersion string    `json:"go_version"`
	Started   time.Time `json:"started"`
}

// RunID names one run.
type RunID struct {
	Algorithm, Arm string
	Seed           int
}

func (r RunID) String() string { return fmt.Sprintf("%s-%s-s%d", r.Algorithm, r.Arm, r.Seed) }

// ErrLocked is returned (wrapped, naming the holder) when another process,
// or another Run in this one, holds the results folder.
var ErrLocked = dirlock.ErrLocked

// ErrInterrupted is returned (wrapped, beside the context's error) when
// Run's context is cancelled: the folder keeps everything done so far, and
// running again with the same folder and preset resumes.
var ErrInterrupted = errors.New("interrupted")

// interruptedError is the error of an interrupted Run: its message says how
// to resume, without the raw context error, which it still wraps.
type interruptedError struct {
	run   string // the run that was interrupted; "" before the first
	cause error
}

func (e *interruptedError) Error() string {
	where := ""
	if e.run != "" {
		where = " during run " + e.run
	}
	return "reproduce: interrupted" + where + "; run again with the same folder and preset to resume"
}

func (e *interruptedError) Unwrap() []error { return []error{ErrInterrupted, e.cause} }

// Lock takes the results folder dir for this process (creating it) and
// checks that a config.json already there records preset p, so that a
// second process, or a folder made with another preset, is refused before
// any expensive preparation. The error of a folder in use wraps ErrLocked
// and names the holder; that of another preset wraps ErrConfig and names
// the fields that differ. Release the lock with Unlock (exiting does too).
func Lock(dir string, p Preset) (*dirlock.Lock, error) {
	l, err := dirlock.Acquire(dir)
	if err != nil {
		return nil, fmt.Errorf("reproduce: %w", err)
	}
	if err := checkConfig(dir, p); err != nil {
		l.Unlock()
		return nil, err
	}
	return l, nil
}

// Run runs (or resumes) every run of the preset and writes the summary. It
// holds the results folder's lock throughout (see Options.Lock). When ctx
// is cancelled it returns an error wrapping ErrInterrupted and ctx's error.
func Run(ctx context.Context, o Options) (*Summary, error) {
	p := o.Preset
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if o.Data == nil || o.Backend == nil || o.Dir == "" {
		return nil, fmt.Errorf("%w: Options need Data, Backend and Dir", ErrConfig)
	}
	for _, arm := range p.Arms {
		if _, err := p.Space(parseArm(arm)); err != nil {
			return nil, err
		}
	}
	if want := p.Case().Classes(); len(o.Data.Classes) != want {
		return nil, fmt.Errorf("%w: %s has %d classes, the %s network %d", ErrConfig, o.Data.Name, len(o.Data.Classes), p.Case(), want)
	}
	if o.Lock == nil {
		l, err := Lock(o.Dir, p)
		if err != nil {
			return nil, err
		}
		defer l.Unlock()
	}
	if err := ctx.Err(); err != nil {
		return nil, &interruptedError{cause: err}
	}
	if err := prepareDir(o.Dir, p, backend.Describe(o.Backend, o.BackendSpec)); err != nil {
		return nil, err
	}
	data, err := splitData(o.Data, p)
	if err != nil {
		return nil, err
	}
	// Validate bounds the number of runs.
	var runs []RunStatus
	total := len(p.Algorithms) * len(p.Arms) * p.Seeds
	for _, alg := range p.Algorithms {
		for _, arm := range p.Arms {
			for s := range p.Seeds {
				runs = append(runs, RunStatus{Index: len(runs), Total: total, ID: RunID{alg, arm, s},
					Budget: time.Duration(p.Budget), ComputeClock: p.compute(), stats: &runStats{}})
			}
		}
	}
	shared, err := openShared(ctx, o, runs)
	if err != nil {
		return nil, err
	}
	defer closeShared(shared)
	for len(runs) > 0 {
		var held []RunStatus
		for _, st := range runs {
			err := runOne(ctx, o, data, st, shared[st.ID])
			switch {
			case err != nil && ctx.Err() != nil:
				return nil, &interruptedError{run: st.ID.String(), cause: ctx.Err()}
			case errors.Is(err, hpo.ErrLocked) && shared != nil:
				held = append(held, st) // another process runs it: later
			case err != nil:
				return nil, fmt.Errorf("reproduce: run %s: %w", st.ID, err)
			}
		}
		if len(held) > 0 {
			if w, ok := o.Observer.(Waiter); ok {
				w.Waiting(held)
			}
			select {
			case <-ctx.Done():
				return nil, &interruptedError{cause: ctx.Err()}
			case <-time.After(o.wait()):
			}
		}
		runs = held
	}
	return writeSummary(o.Dir)
}

func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				if _, v, ok := strings.Cut(line, ":"); ok {
					model = strings.TrimSpace(v)
					break
				}
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
}

// Recorded returns the preset that the results folder dir was made with
// (its config.json), and false when dir has none.
func Recorded(dir string) (Preset, bool, error) {
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Preset{}, false, nil
	} else if err != nil {
		return Preset{}, false, fmt.Errorf("reproduce: %w", err)
	}
	var prev runInfo
	if err := json.Unmarshal(b, &prev); err != nil {
		return Preset{}, false, fmt.Errorf("reproduce: %s: %w", path, err)
	}
	return prev.Preset, true, nil
}

// checkConfig checks that the config.json in dir, if any, records preset
// p (a resumed experiment), naming the fields that differ if not.
func checkConfig(dir string, p Preset) error {
	prev, ok, err := Recorded(dir)
	if err != nil || !ok {
		return err
	}
	if diff := prev.Diff(p); len(diff) > 0 {
		return fmt.Errorf("%w: %s was made with another preset (%s); use another folder, or the settings it was made with",
			ErrConfig, dir, strings.Join(diff, "; "))
	}
	return nil
}

// prepareDir creates the results folder or checks that it belongs to the
// same preset (a resumed experiment), and removes the temporary files of a
// process killed while writing (the caller holds the folder's lock).
func prepareDir(dir string, p Preset, backendDesc string) error {
	if err := os.MkdirAll(filepath.Join(dir, "runs"), 0o755); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	if err := checkConfig(dir, p); err != nil {
		return err
	}
	runs, err := filepath.Glob(filepath.Join(dir, "runs", "*"))
	if err != nil {
		return err
	}
	for _, d := range append([]string{dir}, runs...) {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			if err := atomicfile.RemoveTemps(d); err != nil {
				return fmt.Errorf("reproduce: %w", err)
			}
		}
	}
	path := filepath.Join(dir, "config.json")
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	info := runInfo{Preset: p, Backend: backendDesc, Machine: machine(), GoVersion: runtime.Version(), Started: time.Now().UTC()}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic writes a results file atomically, with permissions 0644;
// its errors name the file.
func writeFileAtomic(path string, data []byte) error {
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	return nil
}

// splitData applies the preset's subset and the paper's 70/30 split (seed 0,
// the same for every run).
func splitData(d *cifar.Dataset, p Preset) (trainer.Data, error) {
	return trainer.SplitData(d.Head(p.TrainImages), cifar.SplitConfig{})
}

// scheduler builds the algorithm's scheduler and searcher.
func scheduler(p Preset, alg string, space hpo.Space, seed uint64) (hpo.Scheduler, hpo.Searcher, error) {
	random := pairedSearcher(space, seed)
	switch alg {
	case HyperBand:
		s, err := hyperband.New(hyperband.Config{MaxBudget: p.MaxEpochs, Eta: p.Eta, Loops: -1})
		return s, random, err
	case ASHA:
		s, err := asha.New(asha.Config{Mode: p.ashaMode(), MaxBudget: p.MaxEpochs, Eta: p.Eta, Seed: seed})
		return s, random, err
	case AHB:
		s, err := asha.NewAsyncHyperband(asha.Config{Mode: p.ashaMode(), MaxBudget: p.MaxEpochs, Eta: p.Eta, Seed: seed, Weights: p.ahbWeights()})
		return s, random, err
	case Random:
		return &hpo.FIFO{MaxBudget: p.MaxEpochs}, random, nil
	}
	return populationScheduler(p, alg, space, seed)
}

// factory builds the trainable of a trial, counted for the progress view.
func factory(o Options, data trainer.Data, arm cnn.Arm, seed uint64, stats *runStats) hpo.Factory {
	if o.newTrainable != nil {
		return countingFactory(o.newTrainable, stats)
	}
	p := o.Preset
	onExploit := trainer.KeepAdapted
	if p.PBTResetAdapted {
		onExploit = trainer.ResetAdapted
	}
	return countingFactory(func(_ context.Context, id hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
		config := func(cfg hpo.Config) (trainer.Config, error) {
			tr, err := cnn.FromConfig(p.Case(), arm, cfg)
			if err != nil {
				return trainer.Config{}, err
			}
			return trainer.Config{
				Net: tr.Net, BatchSize: tr.BatchSize, Optimizer: tr.Optimizer, OnExploit: onExploit,
				Augment: p.Augment, Seed: hpo.Mix(seed, uint64(id)), Unit: trainer.Epochs, EvalLimit: p.EvalLimit,
			}, nil
		}
		tc, err := config(cfg)
		if err != nil {
			return nil, err
		}
		t, err := trainer.New(o.Backend, data, tc)
		if err != nil {
			return nil, err
		}
		return &cnnTrial{Trainer: t, config: config}, nil
	}, stats)
}

// cnnTrial is a trial's CNN trainer that takes a new hpo configuration in
// place (hpo.Reconfigurer): a PBT exploit then copies variables instead of
// building and compiling a new trainer, where the change allows it.
type cnnTrial struct {
	*trainer.Trainer
	config func(hpo.Config) (trainer.Config, error)
}

// Reconfigure implements hpo.Reconfigurer.
func (c *cnnTrial) Reconfigure(cfg hpo.Config) error {
	tc, err := c.config(cfg)
	if err != nil {
		return err
	}
	return c.Trainer.Reconfigure(tc)
}

// countingFactory wraps build's trainables to count them for the progress
// view.
func countingFactory(build hpo.Factory, stats *runStats) hpo.Factory {
	return func(ctx context.Context, id hpo.TrialID, cfg hpo.Config) (_ hpo.Trainable, err error) {
		stats.sawTrial(id)
		ok := false
		defer func() {
			if !ok || err != nil { // a panic (the runner recovers it) or an error
				stats.failed.Add(1)
			}
		}()
		t, err := build(ctx, id, cfg)
		ok = true
		if err != nil {
			return nil, err
		}
		if t == nil {
			stats.failed.Add(1) // the runner fails the trial
			return nil, nil
		}
		return &counted{Trainable: t, stats: stats}, nil
	}
}

// counted is a trainable that counts its results and failures for the
// progress view. The runner calls its methods from one goroutine at a
// time.
type counted struct {
	hpo.Trainable
	stats *runStats
	// pending is the result of the last Train, counted once Save has
	// checkpointed it (a save error stops the run instead).
	pending *hpo.Result
}

// guard counts a failure if the method it is deferred in panics or returns
// an error: defer c.guard(&ok, &err) with ok set just before returning.
func (c *counted) guard(ok *bool, err *error) {
	if !*ok || *err != nil {
		c.stats.failed.Add(1)
	}
}

func (c *counted) Train(ctx context.Context, until int) (r hpo.Result, err error) {
	c.pending = nil
	ok := false
	defer func() {
		if err != nil && ctx.Err() != nil {
			return // interrupted (time budget or Ctrl-C), not a failure
		}
		c.guard(&ok, &err)
	}()
	r, err = c.Trainable.Train(ctx, until)
	ok = true
	if err != nil {
		return r, err
	}
	if !validMetrics(r) {
		c.stats.failed.Add(1) // the runner fails the trial
		return r, nil
	}
	c.pending = &r
	return r, nil
}

// validMetrics reports whether the runner accepts a result: the metric is
// there and every metric is finite.
func validMetrics(r hpo.Result) bool {
	if _, ok := r.Metrics[trainer.MetricAccuracy]; !ok {
		return false
	}
	for _, v := range r.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// Save counts the pending result once it is checkpointed. A save error is
// no trial's failure: the runner stops the run with hpo.ErrStorage.
func (c *counted) Save(dir string) (err error) {
	err = c.Trainable.Save(dir)
	if err == nil && c.pending != nil {
		c.stats.results.Add(1)
		c.stats.mu.Lock()
		c.stats.best = max(c.stats.best, c.pending.Metrics[trainer.MetricAccuracy])
		c.stats.mu.Unlock()
	}
	c.pending = nil
	return err
}

func (c *counted) Restore(dir string) (err error) {
	ok := false
	defer c.guard(&ok, &err)
	err = c.Trainable.Restore(dir)
	ok = true
	return err
}

// Reconfigure implements hpo.Reconfigurer for trainables that do (the CNN
// trainer does); the others are rebuilt (hpo.ErrRebuild).
func (c *counted) Reconfigure(cfg hpo.Config) (err error) {
	rc, ok := c.Trainable.(hpo.Reconfigurer)
	if !ok {
		return fmt.Errorf("%T: %w", c.Trainable, hpo.ErrRebuild)
	}
	done := false
	defer func() {
		if !done || (err != nil && !errors.Is(err, hpo.ErrRebuild)) {
			c.stats.failed.Add(1) // the runner fails the trial
		}
	}()
	err = rc.Reconfigure(cfg)
	done = true
	return err
}

// experiment builds run id's experiment (its trainables counted in
// stats, its scheduler timed in them), without its storage.
func experiment(o Options, data trainer.Data, id RunID, stats *runStats) (hpo.Experiment, error) {
	p := o.Preset
	arm := parseArm(id.Arm)
	space, err := p.Space(arm)
	if err != nil {
		return hpo.Experiment{}, err
	}
	seed := uint64(id.Seed)
	sched, search, err := scheduler(p, id.Algorithm, space, seed)
	if err != nil {
		return hpo.Experiment{}, err
	}
	e := hpo.Experiment{
		Space: space, Metric: Objective(), Factory: factory(o, data, arm, seed, stats),
		Scheduler: &timedScheduler{sched, stats}, Searcher: search, Slots: p.Slots,
		TimeBudget: time.Duration(p.Budget), Seed: seed, Clock: o.runClock,
	}
	if p.compute() {
		m, err := p.costModel()
		if err != nil {
			return hpo.Experiment{}, err
		}
		evalImages := data.Val.Len()
		if p.EvalLimit > 0 {
			evalImages = min(evalImages, p.EvalLimit)
		}
		e.Cost, e.Workers = m.trialCost(p, arm, data.Train.Len(), evalImages), p.Workers
	}
	return e, nil
}

// runOne runs (or resumes) one run and writes its results.csv. With a
// shared storage (sr not nil) the run's journal and checkpoints are sr's,
// and its journal is copied into the run's folder when it ends; a run
// that another process holds fails with an error wrapping hpo.ErrLocked.
func runOne(ctx context.Context, o Options, data trainer.Data, st RunStatus, sr SharedRun) error {
	p, id, stats := o.Preset, st.ID, st.stats
	e, err := experiment(o, data, id, stats)
	if err != nil {
		return err
	}
	dir := filepath.Join(o.Dir, "runs", id.String())
	if err := writeRunFile(dir, id, p.Dataset); err != nil {
		return err
	}
	if sr == nil {
		e.Dir = dir
	} else {
		e.Storage = sr
		if o.Remote {
			e.Remote = sr.Remote()
		}
	}
	if o.Observer != nil {
		o.Observer.RunStarted(st)
	}
	rep, err := hpo.Run(ctx, e)
	if o.Observer != nil {
		o.Observer.RunEnded(st, rep, err)
	}
	if err != nil {
		return err
	}
	if sr != nil {
		if err := copyJournal(ctx, sr, dir); err != nil {
			return err
		}
	}
	var csv bytes.Buffer
	if err := rep.WriteCSV(&csv); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "results.csv"), csv.Bytes())
}
