package reproduce

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hpo"
)

// CurvesFormat is the version of the curve file's layout (Curves.Format).
const CurvesFormat = 1

// CurvesFile is the name of the curve file Record writes into its folder.
const CurvesFile = "curves.json"

// Curves is a curve pool: for each arm, configurations trained once to the
// recording preset's MaxEpochs, evaluated after every epoch. It is what
// Record writes (curves.json) and what a replay (Options.Curves) serves
// trials from.
type Curves struct {
	// Format is CurvesFormat.
	Format int `json:"format"`
	// Preset is the recording's preset (the algorithm Recording, its pool
	// sizes): data, subset, caps, epochs, clock and cost model.
	Preset Preset `json:"preset"`
	// Data describes the training images: the data set, how many were
	// used, and the SHA-256 of their pixels and labels.
	Data string `json:"data"`
	// Backend, Machine, GoVersion and GoMLX say what trained the pool.
	Backend   string `json:"backend"`
	Machine   string `json:"machine"`
	GoVersion string `json:"go_version"`
	GoMLX     string `json:"gomlx"`
	// TrainImages and EvalImages are the sizes of the training part and of
	// the validation images evaluated, for which the compute clock charges
	// steps and evaluations.
	TrainImages int `json:"train_images"`
	EvalImages  int `json:"eval_images"`
	// Arms holds each arm's members ("sgd", "hgd").
	Arms map[string][]Member `json:"arms"`

	id string // ID, once computed; the members are not changed after
}

// Member is one configuration of a pool and its recorded curve.
type Member struct {
	// Config is the configuration, in its arm's space.
	Config hpo.Config `json:"config"`
	// Seed seeded its weights and batch order (trainer.Config.Seed).
	Seed uint64 `json:"seed"`
	// Epochs[e-1] is what training to epoch e returned, and its cost.
	Epochs []Epoch `json:"epochs"`
	// Failure, if the training failed (diverged) during epoch
	// len(Epochs)+1, is the trainer's error: a replay that trains the
	// member that far fails the trial with it.
	Failure string `json:"failure,omitempty"`
}

// Epoch is one point of a recorded curve.
type Epoch struct {
	// Metrics are the trainer's result after the epoch, exactly as it
	// returned them: validation accuracy and loss, training loss, HGD's
	// adapted α and γ, steps, epochs.
	Metrics map[string]float64 `json:"metrics"`
	// Cost is the compute-clock cost (seconds) of the epoch's training and
	// of the evaluation after it, under the preset's cost model.
	Cost float64 `json:"cost"`
}

// ID is the pool's identity: "sha256:" and the first 16 hex digits of the
// SHA-256 of its members (the configurations, seeds and curves of both
// arms, as JSON). A replay records it in its preset (Preset.Replay).
func (c *Curves) ID() string {
	if c.id == "" {
		b, _ := json.Marshal(c.Arms) // maps are written in key order
		h := sha256.Sum256(b)
		c.id = "sha256:" + hex.EncodeToString(h[:8])
	}
	return c.id
}

// Head returns the pool of the first sgd and hgd members of c's arms (all
// of an arm when it has fewer): the pool that a recording of those sizes
// makes, since a pool's draws do not depend on its size.
func (c *Curves) Head(sgd, hgd int) *Curves {
	h := *c
	h.id = ""
	h.Preset.PoolSGD, h.Preset.PoolHGD = 0, 0
	h.Arms = map[string][]Member{}
	for arm, n := range map[string]int{"sgd": sgd, "hgd": hgd} {
		if ms, ok := c.Arms[arm]; ok {
			h.Arms[arm] = ms[:min(n, len(ms))]
			if arm == "sgd" {
				h.Preset.PoolSGD = len(h.Arms[arm])
			} else {
				h.Preset.PoolHGD = len(h.Arms[arm])
			}
		}
	}
	return &h
}

// Record records (or resumes the recording of) the curve pool of
// o.Preset, whose algorithm is Recording: for each arm, a run that trains
// PoolSGD (PoolHGD) configurations to MaxEpochs, one result per epoch
// (an hpo experiment like any other: resumable, and shared through
// o.Shared with workers); then it writes the pool into o.Dir/curves.json
// and returns it.
func Record(ctx context.Context, o Options) (*Curves, error) {
	if !o.Preset.recording() {
		return nil, fmt.Errorf("%w: Record needs the algorithm %q", ErrConfig, Recording)
	}
	if err := runAll(ctx, o); err != nil {
		return nil, err
	}
	data, err := splitData(o.Data, o.Preset)
	if err != nil {
		return nil, err
	}
	c, err := collectCurves(o.Dir, DataDigest(o.Data, o.Preset.TrainImages), data.Train.Len(), evalImages(o.Preset, data))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := c.Write(&buf); err != nil {
		return nil, err
	}
	return c, writeFileAtomic(filepath.Join(o.Dir, CurvesFile), buf.Bytes())
}

// DataDigest describes the first n images of d (0: all): the data set, the
// count and the SHA-256 of their pixels and labels.
func DataDigest(d *cifar.Dataset, n int) string {
	if d == nil {
		return ""
	}
	h := d.Head(n)
	sum := sha256.New()
	sum.Write(h.Pixels)
	sum.Write(h.Labels)
	return fmt.Sprintf("%s, first %d images, sha256 %x", d.Name, h.N, sum.Sum(nil)[:8])
}

// gomlxVersion is the GoMLX module's version in this binary.
func gomlxVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/gomlx/gomlx" {
				return m.Version
			}
		}
	}
	return "unknown"
}

// collectCurves builds the pool from the recording folder's journals.
func collectCurves(dir, data string, trainImages, evalImages int) (*Curves, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("reproduce: %w", err)
	}
	var info runInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("reproduce: %s: %w", filepath.Join(dir, "config.json"), err)
	}
	p := info.Preset
	m, err := p.costModel()
	if err != nil {
		return nil, err
	}
	c := &Curves{Format: CurvesFormat, Preset: p, Data: data, Backend: info.Backend, Machine: info.Machine,
		GoVersion: info.GoVersion, GoMLX: gomlxVersion(), TrainImages: trainImages, EvalImages: evalImages,
		Arms: map[string][]Member{}}
	for _, armName := range p.Arms {
		arm, err := cnn.ParseArm(armName)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		id := RunID{Recording, armName, 0}
		space, err := p.Space(arm)
		if err != nil {
			return nil, err
		}
		rep, err := hpo.LoadReportSpace(filepath.Join(dir, "runs", id.String()), space)
		if err != nil {
			return nil, fmt.Errorf("reproduce: run %s: %w", id, err)
		}
		if len(rep.Trials) != p.poolSize(arm) {
			return nil, fmt.Errorf("reproduce: run %s has %d trials, its pool %d: the recording is not done", id, len(rep.Trials), p.poolSize(arm))
		}
		cost := m.trialCost(p, arm, trainImages, evalImages)
		members := make([]Member, len(rep.Trials))
		for i, t := range rep.Trials {
			mb := Member{Config: t.Config, Seed: hpo.Mix(0, uint64(t.ID)), Epochs: make([]Epoch, len(t.Results))}
			switch {
			case t.Status == hpo.Completed && len(t.Results) == p.MaxEpochs:
			case t.Status == hpo.Failed && len(t.Results) < p.MaxEpochs && strings.HasPrefix(t.Err, trainFailure):
				mb.Failure = strings.TrimPrefix(t.Err, trainFailure)
			default:
				return nil, fmt.Errorf("reproduce: run %s: trial %d is %s with %d of %d epochs (%s)", id, t.ID, t.Status, len(t.Results), p.MaxEpochs, t.Err)
			}
			for e, r := range t.Results {
				if r.Budget != e+1 {
					return nil, fmt.Errorf("reproduce: run %s: trial %d reported budget %d as its result %d", id, t.ID, r.Budget, e+1)
				}
				mb.Epochs[e] = Epoch{Metrics: r.Metrics, Cost: cost(t.Config, e, e+1).Seconds()}
			}
			members[i] = mb
		}
		c.Arms[armName] = members
	}
	return c, nil
}

// trainFailure is how the runner journals the error of a trainable's
// Train: the trainer's own error follows it.
var trainFailure = hpo.ErrTrial.Error() + ": train: "

// Write writes the pool as compact JSON, as LoadCurves reads it.
func (c *Curves) Write(w io.Writer) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("reproduce: encoding the curve pool: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ErrCurves wraps the errors of a curve file that cannot be read or does
// not fit the replay.
var ErrCurves = errors.New("reproduce: curve pool")

// LoadCurves reads a curve file written by Record and checks it: its
// format, its preset, and that every member of each arm is a configuration
// of the arm's space with a complete curve of finite metrics.
func LoadCurves(path string) (*Curves, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCurves, err)
	}
	var c Curves
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCurves, path, err)
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCurves, path, err)
	}
	return &c, nil
}

// check validates a decoded pool and normalizes its configurations (JSON
// numbers back to the space's types).
func (c *Curves) check() error {
	if c.Format != CurvesFormat {
		return fmt.Errorf("format %d (this hgdtune reads %d)", c.Format, CurvesFormat)
	}
	p := c.Preset
	if err := p.Validate(); err != nil {
		return err
	}
	if !p.recording() {
		return fmt.Errorf("its preset does not record a pool (algorithms %v)", p.Algorithms)
	}
	if !p.compute() {
		return fmt.Errorf("its preset has no compute clock, on which a replay runs")
	}
	if c.TrainImages < 1 || c.EvalImages < 1 {
		return fmt.Errorf("train_images %d and eval_images %d: want ≥ 1", c.TrainImages, c.EvalImages)
	}
	for _, armName := range p.Arms {
		arm, err := cnn.ParseArm(armName)
		if err != nil {
			return err
		}
		space, err := p.Space(arm)
		if err != nil {
			return err
		}
		ms := c.Arms[armName]
		if len(ms) == 0 {
			return fmt.Errorf("no members in the %s arm", armName)
		}
		for i := range ms {
			cfg, err := space.Normalize(ms[i].Config)
			if err != nil {
				return fmt.Errorf("%s member %d: %w", armName, i, err)
			}
			if _, err := cnn.FromConfig(p.Case(), arm, cfg); err != nil {
				return fmt.Errorf("%s member %d: %w", armName, i, err)
			}
			ms[i].Config = cfg
			if n := len(ms[i].Epochs); (ms[i].Failure == "" && n != p.MaxEpochs) || (ms[i].Failure != "" && n >= p.MaxEpochs) {
				return fmt.Errorf("%s member %d: %d epochs, the pool %d (failure %q)", armName, i, n, p.MaxEpochs, ms[i].Failure)
			}
			for e, ep := range ms[i].Epochs {
				if !validMetrics(hpo.Result{Metrics: ep.Metrics}) || !(ep.Cost >= 0) {
					return fmt.Errorf("%s member %d epoch %d: a missing accuracy, a non-finite metric or a negative cost", armName, i, e+1)
				}
			}
		}
	}
	for armName := range c.Arms {
		if !slices.Contains(p.Arms, armName) {
			return fmt.Errorf("members of arm %q, which the pool's preset does not record", armName)
		}
	}
	return nil
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
