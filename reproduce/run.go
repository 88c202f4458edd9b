package reproduce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/hpo/hyperband"
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

	// Curves is the curve pool that a preset with Replay set replays
	// (LoadCurves); such a run needs neither Data nor Backend, trains
	// nothing and keeps its runs in Dir only.
	Curves *Curves

	// mem, set by Targets, keeps a replay's checkpoints in memory.
	mem *memStore

	// Trainables, when set, builds every trial's trainable instead of the
	// paper's CNN: a model of one's own under the same protocol, its
	// configurations drawn from the preset's space (Data and Backend are
	// still required: the split's sizes price the compute clock). With
	// Curves, it trains the replay's draws for real instead of serving
	// them from the pool: what a replay must equal.
	Trainables hpo.Factory
	// Clock is the wall clock of the runs' budgets (nil: the system
	// clock); the compute clock does not read it.
	Clock hpo.Clock
}

// Objective returns the objective of every run: validation accuracy
// (trainer.MetricAccuracy), maximized.
func Objective() hpo.Metric { return hpo.Metric{Name: trainer.MetricAccuracy, Goal: hpo.Maximize} }

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
// A preset that records a curve pool is Record's.
func Run(ctx context.Context, o Options) (*Summary, error) {
	if o.Preset.recording() {
		return nil, fmt.Errorf("%w: the algorithm %q records a curve pool: use Record", ErrConfig, Recording)
	}
	if err := runAll(ctx, o); err != nil {
		return nil, err
	}
	return writeSummary(o.Dir)
}

// runAll runs (or resumes) every run of the preset, holding the results
// folder's lock.
func runAll(ctx context.Context, o Options) error {
	p := o.Preset
	if err := p.Validate(); err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	arms, err := p.parseArms()
	if err != nil {
		return err
	}
	for _, arm := range arms {
		if _, err := p.Space(arm); err != nil {
			return err
		}
	}
	if o.Lock == nil {
		l, err := Lock(o.Dir, p)
		if err != nil {
			return err
		}
		defer l.Unlock()
	}
	if err := ctx.Err(); err != nil {
		return &interruptedError{cause: err}
	}
	// Validate bounds the number of runs.
	var runs []RunStatus
	total := len(p.Algorithms) * len(p.Arms) * p.Seeds
	for _, alg := range p.Algorithms {
		for i, arm := range p.Arms {
			for s := range p.Seeds {
				st := RunStatus{Index: len(runs), Total: total, ID: RunID{alg, arm, s},
					Budget: time.Duration(p.Budget), ComputeClock: p.compute(), stats: &runStats{}}
				if alg == Recording {
					st.Pool, st.Epochs = p.poolSize(arms[i]), p.MaxEpochs
				}
				runs = append(runs, st)
			}
		}
	}
	// The shared runs are opened (a name used with other settings is
	// refused) before the folder records the preset.
	shared, err := openShared(ctx, o, runs)
	if err != nil {
		return err
	}
	defer closeShared(shared)
	var data trainer.Data
	if p.Replay != "" {
		c := o.Curves
		if err := prepareDir(o.Dir, p, fmt.Sprintf("none: a replay of curve pool %s, recorded with %s", c.ID(), c.Backend)); err != nil {
			return err
		}
	} else {
		if err := prepareDir(o.Dir, p, backend.Describe(o.Backend, o.BackendSpec)); err != nil {
			return err
		}
		if data, err = splitData(o.Data, p); err != nil {
			return err
		}
	}
	for len(runs) > 0 {
		var held []RunStatus
		for _, st := range runs {
			err := runOne(ctx, o, data, st, shared[st.ID])
			switch {
			case err != nil && ctx.Err() != nil:
				return &interruptedError{run: st.ID.String(), cause: ctx.Err()}
			case errors.Is(err, hpo.ErrLocked) && shared != nil:
				held = append(held, st) // another process runs it: later
			case err != nil:
				return fmt.Errorf("reproduce: run %s: %w", st.ID, err)
			}
		}
		if len(held) > 0 {
			if w, ok := o.Observer.(Waiter); ok {
				w.Waiting(held)
			}
			select {
			case <-ctx.Done():
				return &interruptedError{cause: ctx.Err()}
			case <-time.After(o.wait()):
			}
		}
		runs = held
	}
	return nil
}

// splitData applies the preset's subset and the paper's 70/30 split (seed 0,
// the same for every run).
func splitData(d *cifar.Dataset, p Preset) (trainer.Data, error) {
	return trainer.SplitData(d.Head(p.TrainImages), cifar.SplitConfig{})
}

// check checks the options against the preset: the data and backend of a
// run that trains, or the pool of a replay.
func (o Options) check() error {
	p := o.Preset
	if o.Dir == "" {
		return fmt.Errorf("%w: Options need Dir", ErrConfig)
	}
	if p.Replay != "" {
		switch {
		case o.Curves == nil || o.Curves.ID() != p.Replay:
			return fmt.Errorf("%w: the preset replays curve pool %s: Options.Curves must be that pool", ErrConfig, p.Replay)
		case o.Shared != nil:
			return fmt.Errorf("%w: a replay trains nothing and is not shared: run it without a shared storage", ErrConfig)
		}
		return o.Curves.Fits(p)
	}
	if o.Data == nil || o.Backend == nil {
		return fmt.Errorf("%w: Options need Data and Backend", ErrConfig)
	}
	if want := p.Case().Classes(); len(o.Data.Classes) != want {
		return fmt.Errorf("%w: %s has %d classes, the %s network %d", ErrConfig, o.Data.Name, len(o.Data.Classes), p.Case(), want)
	}
	return nil
}

// evalImages is the number of validation images each result is evaluated
// on.
func evalImages(p Preset, data trainer.Data) int {
	n := data.Val.Len()
	if p.EvalLimit > 0 {
		n = min(n, p.EvalLimit)
	}
	return n
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

// experiment builds run id's experiment (its events counted in stats; nil:
// not counted), without its storage.
func experiment(o Options, data trainer.Data, id RunID, stats *runStats) (hpo.Experiment, error) {
	p := o.Preset
	arm, err := cnn.ParseArm(id.Arm)
	if err != nil {
		return hpo.Experiment{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	space, err := p.Space(arm)
	if err != nil {
		return hpo.Experiment{}, err
	}
	seed := uint64(id.Seed)
	var sched hpo.Scheduler
	var search hpo.Searcher
	if id.Algorithm == Recording {
		sched = &hpo.FIFO{MaxBudget: p.MaxEpochs, Step: 1}
		search, err = newPoolDraws(space, arm, seed, p.poolSize(arm))
	} else {
		sched, search, err = scheduler(p, id.Algorithm, space, seed)
	}
	if err != nil {
		return hpo.Experiment{}, err
	}
	e := hpo.Experiment{
		Space: space, Metric: Objective(),
		Scheduler: sched, Searcher: search, Slots: p.Slots,
		TimeBudget: time.Duration(p.Budget), Seed: seed, Clock: o.Clock,
	}
	if stats != nil {
		e.OnEvent = stats.event
	}
	var trainImages, evalCount int
	if p.Replay != "" {
		members := o.Curves.Arms[id.Arm]
		f, err := replayFactory(space, members, o.mem)
		if err != nil {
			return hpo.Experiment{}, err
		}
		if o.Trainables != nil {
			f = o.Trainables // the same draws trained for real
		}
		e.Factory = f
		e.Searcher = &replayDraws{members: members, order: replayOrder(replayWeights(p, arm, members), seed)}
		if o.mem != nil {
			e.Storage = o.mem
		}
		trainImages, evalCount = o.Curves.TrainImages, o.Curves.EvalImages
	} else {
		e.Factory = factory(o, data, arm, seed)
		trainImages, evalCount = data.Train.Len(), evalImages(p, data)
	}
	if p.compute() {
		m, err := p.costModel()
		if err != nil {
			return hpo.Experiment{}, err
		}
		e.Cost, e.Workers = m.trialCost(p, arm, trainImages, evalCount), p.Workers
	}
	return e, nil
}

// runOne runs (or resumes) one run and writes its results.csv. With a
// shared storage (sr not nil) the run's journal and checkpoints are sr's,
// and its journal is copied into the run's folder when it ends; a run
// that another process holds fails with an error wrapping hpo.ErrLocked.
func runOne(ctx context.Context, o Options, data trainer.Data, st RunStatus, sr SharedRun) error {
	p, id, stats := o.Preset, st.ID, st.stats
	dir := filepath.Join(o.Dir, "runs", id.String())
	var mem *memStore
	if p.Replay != "" && o.Trainables == nil {
		// A replayed run keeps its checkpoints in memory and writes its
		// journal when it ends (memStore).
		mem = newMemStore()
		mem.path = filepath.Join(dir, "journal.jsonl")
		o.mem = mem
	}
	e, err := experiment(o, data, id, stats)
	if err != nil {
		return err
	}
	if err := writeRunFile(dir, id, p.Dataset); err != nil {
		return err
	}
	switch {
	case mem != nil: // the experiment's Storage
	case sr == nil:
		e.Storage = hpo.DirStorage(dir)
	default:
		e.Storage = sr
		if o.Remote {
			e.Remote = sr.Remote()
		}
	}
	if o.Observer != nil {
		o.Observer.RunStarted(st)
	}
	rep, err := hpo.Run(ctx, e)
	if err == nil && mem != nil {
		err = mem.writeJournal()
	}
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
