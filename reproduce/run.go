package reproduce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomlx/compute"

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/hpo/hyperband"
	"github.com/hgdtune/hgdtune/nn"
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
	// Progress receives a one-line progress view; nil is silent.
	Progress io.Writer
}

// Metric is the objective of every run: validation accuracy, maximized.
var Metric = hpo.Metric{Name: trainer.MetricAccuracy, Goal: hpo.Maximize}

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

// Run runs (or resumes) every run of the preset and writes the summary.
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
	if err := prepareDir(o.Dir, p, backend.Describe(o.Backend, o.BackendSpec)); err != nil {
		return nil, err
	}
	data, err := splitData(o.Data, p)
	if err != nil {
		return nil, err
	}
	var ids []RunID
	for _, alg := range p.Algorithms {
		for _, arm := range p.Arms {
			for s := range p.Seeds {
				ids = append(ids, RunID{alg, arm, s})
			}
		}
	}
	prog := newProgress(o.Progress, len(ids), time.Duration(p.Budget))
	defer prog.stop()
	for i, id := range ids {
		if err := runOne(ctx, o, data, id, prog, i); err != nil {
			return nil, fmt.Errorf("reproduce: run %s: %w", id, err)
		}
	}
	prog.stop()
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

// prepareDir creates the results folder or checks that it belongs to the
// same preset (a resumed experiment).
func prepareDir(dir string, p Preset, backendDesc string) error {
	if err := os.MkdirAll(filepath.Join(dir, "runs"), 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, "config.json")
	if b, err := os.ReadFile(path); err == nil {
		var prev runInfo
		if err := json.Unmarshal(b, &prev); err != nil {
			return fmt.Errorf("reproduce: %s: %w", path, err)
		}
		old, _ := json.Marshal(prev.Preset)
		cur, _ := json.Marshal(p)
		if string(old) != string(cur) {
			return fmt.Errorf("%w: %s was made with another preset (%s); use another folder", ErrConfig, dir, old)
		}
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	info := runInfo{Preset: p, Backend: backendDesc, Machine: machine(), GoVersion: runtime.Version(), Started: time.Now().UTC()}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// splitData applies the preset's subset and the paper's 70/30 split (seed 0,
// the same for every run).
func splitData(d *cifar.Dataset, p Preset) (trainer.Data, error) {
	return trainer.SplitData(d.Head(p.TrainImages), cifar.SplitConfig{})
}

// scheduler builds the algorithm's scheduler and searcher.
func scheduler(p Preset, alg string, space hpo.Space, seed uint64) (hpo.Scheduler, hpo.Searcher, error) {
	random := &hpo.Random{Space: space, Seed: seed}
	switch alg {
	case HyperBand:
		s, err := hyperband.New(hyperband.Config{MaxBudget: p.MaxEpochs, Eta: p.Eta, Loops: -1})
		return s, random, err
	case ASHA:
		s, err := asha.New(asha.Config{Mode: asha.Promotion, MaxBudget: p.MaxEpochs, Eta: p.Eta, Seed: seed})
		return s, random, err
	case AHB:
		s, err := asha.NewAsyncHyperband(asha.Config{Mode: asha.Stopping, MaxBudget: p.MaxEpochs, Eta: p.Eta, Seed: seed})
		return s, random, err
	case Random:
		return &hpo.FIFO{MaxBudget: p.MaxEpochs}, random, nil
	}
	return populationScheduler(p, alg, space, seed)
}

// factory builds the trainable of a trial.
func factory(o Options, data trainer.Data, arm cnn.Arm, seed uint64, stats *runStats) hpo.Factory {
	p := o.Preset
	impl := nn.ForBackend(backend.Name(o.BackendSpec))
	kind := hgd.Momentum
	if arm == cnn.ArmHGD {
		kind = hgd.HGD
	}
	return func(id hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
		tr, err := cnn.FromConfig(p.Case(), arm, cfg)
		if err != nil {
			return nil, err
		}
		tr.Net.Impl = impl
		t, err := trainer.New(o.Backend, data, trainer.Config{
			Net: tr.Net, BatchSize: tr.BatchSize, Optimizer: kind,
			LearningRate: tr.LearningRate, Momentum: tr.Momentum,
			Augment: p.Augment, Seed: hpo.Mix(seed, uint64(id)), Unit: trainer.Epochs, EvalLimit: p.EvalLimit,
		})
		if err != nil {
			return nil, err
		}
		stats.trials.Add(1)
		return &counted{Trainer: t, stats: stats}, nil
	}
}

// runStats feeds the progress view.
type runStats struct {
	trials, results, failed atomic.Int64
	mu                      sync.Mutex
	best                    float64
}

// counted is a trainer that counts its results for the progress view.
type counted struct {
	*trainer.Trainer
	stats *runStats
}

func (c *counted) Train(ctx context.Context, until int) (hpo.Result, error) {
	r, err := c.Trainer.Train(ctx, until)
	if err != nil {
		if ctx.Err() == nil {
			c.stats.failed.Add(1)
		}
		return r, err
	}
	c.stats.results.Add(1)
	if acc, ok := r.Metrics[trainer.MetricAccuracy]; ok && !math.IsNaN(acc) {
		c.stats.mu.Lock()
		c.stats.best = max(c.stats.best, acc)
		c.stats.mu.Unlock()
	}
	return r, nil
}

// runOne runs (or resumes) one run and writes its results.csv.
func runOne(ctx context.Context, o Options, data trainer.Data, id RunID, prog *progress, index int) error {
	p := o.Preset
	arm := parseArm(id.Arm)
	space, err := p.Space(arm)
	if err != nil {
		return err
	}
	seed := uint64(id.Seed)
	sched, search, err := scheduler(p, id.Algorithm, space, seed)
	if err != nil {
		return err
	}
	stats := &runStats{}
	dir := filepath.Join(o.Dir, "runs", id.String())
	prog.start(index, id, stats)
	rep, err := hpo.Run(ctx, hpo.Experiment{
		Space: space, Metric: Metric, Factory: factory(o, data, arm, seed, stats),
		Scheduler: sched, Searcher: search, Slots: p.Slots,
		TimeBudget: time.Duration(p.Budget), Dir: dir, Seed: seed,
	})
	prog.end(rep)
	if err != nil {
		return err
	}
	var csv bytes.Buffer
	if err := rep.WriteCSV(&csv); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "results.csv"), csv.Bytes())
}

// progress is the one-line view of the whole experiment.
type progress struct {
	w       io.Writer
	total   int
	budget  time.Duration
	mu      sync.Mutex
	index   int
	id      RunID
	stats   *runStats
	started time.Time
	done    chan struct{}
	once    sync.Once
	live    bool // redraw one line in place (terminals only)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newProgress(w io.Writer, total int, budget time.Duration) *progress {
	p := &progress{w: w, total: total, budget: budget, done: make(chan struct{}), live: isTerminal(w)}
	if w != nil && p.live {
		go func() {
			t := time.NewTicker(500 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-p.done:
					return
				case <-t.C:
					p.draw()
				}
			}
		}()
	}
	return p
}

func (p *progress) start(i int, id RunID, s *runStats) {
	p.mu.Lock()
	p.index, p.id, p.stats, p.started = i, id, s, time.Now()
	p.mu.Unlock()
	p.draw()
}

func (p *progress) draw() {
	if p.w == nil || !p.live {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stats == nil {
		return
	}
	p.stats.mu.Lock()
	best := p.stats.best
	p.stats.mu.Unlock()
	el := time.Since(p.started)
	frac := min(1, el.Seconds()/p.budget.Seconds())
	const width = 16
	fill := int(frac * width)
	fmt.Fprintf(p.w, "\r[%d/%d] %-18s [%s%s] %5s/%s  trials %3d  results %4d  failed %2d  best acc %.4f ",
		p.index+1, p.total, p.id, strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		el.Round(time.Second), p.budget, p.stats.trials.Load(), p.stats.results.Load(), p.stats.failed.Load(), best)
}

func (p *progress) end(rep *hpo.Report) {
	if p.w == nil {
		return
	}
	p.draw()
	p.mu.Lock()
	defer p.mu.Unlock()
	best := math.NaN()
	if rep != nil && len(rep.Curve) > 0 {
		best = rep.Curve[len(rep.Curve)-1].Best
	}
	reason := ""
	if rep != nil {
		reason = rep.Reason
	}
	pad := ""
	if p.live {
		pad = strings.Repeat(" ", 40)
	}
	fmt.Fprintf(p.w, "\r[%d/%d] %-18s done: %d trials (%d failed), best %.4f (%s)%s\n", p.index+1, p.total, p.id,
		p.stats.trials.Load(), p.stats.failed.Load(), best, reason, pad)
	p.stats = nil
}

func (p *progress) stop() { p.once.Do(func() { close(p.done) }) }
