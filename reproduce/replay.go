package reproduce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hpo"
)

// Replays. With Options.Curves, every run of the preset is replayed on the
// curve pool: the real schedulers and runner on the compute clock, with
// trials served from the recorded curves instead of trained. Trial t of
// seed k is the t-th member of the arm's pool in an order drawn without
// replacement, with probabilities proportional to the members' weights
// under the preset's learning-rate prior (replayDraws); training it to
// epoch e returns what the member's training returned at epoch e
// (curveTrial), and the clock charges what training would cost. A run
// that trains each trial with one configuration from start to end
// (Hyperband, ASHA, Async Hyperband, random search; pausing and resuming
// a trial continues its curve) is therefore exactly the run that real
// training with the members' seeds gives, journal and all.

// replayStream is the stream of the replay draws' keys.
var replayStream = paramStream("replay-order")

// replayWeights are the weights of arm's members under preset p's
// learning-rate prior (poolWeight; 1 for the HGD arm).
func replayWeights(p Preset, arm cnn.Arm, members []Member) []float64 {
	w := make([]float64, len(members))
	for i, m := range members {
		w[i] = 1
		if arm == cnn.ArmSGD {
			w[i] = poolWeight(p.lrPrior(), m.Config.Float(cnn.ParamLearningRate))
		}
	}
	return w
}

// replayOrder is the order in which run seed draws the members (weighted
// sampling without replacement: the members sorted by log(u_i)/w_i, u_i
// uniform from the stream of (seed, i), largest first; members of weight 0
// are never drawn).
func replayOrder(weights []float64, seed uint64) []int {
	type keyed struct {
		i   int
		key float64
	}
	var ks []keyed
	for i, w := range weights {
		if w > 0 {
			ks = append(ks, keyed{i, math.Log(hpo.Unit(seed, uint64(i), replayStream)) / w})
		}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		switch {
		case a.key > b.key:
			return -1
		case a.key < b.key:
			return 1
		}
		return a.i - b.i
	})
	order := make([]int, len(ks))
	for j, k := range ks {
		order[j] = k.i
	}
	return order
}

// replayDraws is the searcher of a replayed run.
type replayDraws struct {
	members []Member
	order   []int
}

// Suggest implements hpo.Searcher: trial id is the id-th member drawn.
func (d *replayDraws) Suggest(_ hpo.View, id hpo.TrialID) (hpo.Config, error) {
	if int(id) >= len(d.order) {
		return nil, hpo.ErrExhausted
	}
	return d.members[d.order[id]].Config.Clone(), nil
}

// Observe implements hpo.Searcher; the draws ignore results.
func (d *replayDraws) Observe(hpo.View, hpo.Result, hpo.Status) {}

// configKey is a configuration's identity in a pool: its JSON (keys
// sorted) after normalization to the space.
func configKey(space hpo.Space, cfg hpo.Config) (string, error) {
	norm, err := space.Normalize(cfg)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(norm)
	return string(b), err
}

// replayFactory builds the trainables of a replayed run: the member whose
// configuration the trial has.
func replayFactory(space hpo.Space, members []Member, mem *memStore) (hpo.Factory, error) {
	index := make(map[string]int, len(members))
	for i, m := range members {
		k, err := configKey(space, m.Config)
		if err != nil {
			return nil, fmt.Errorf("%w: member %d: %w", ErrCurves, i, err)
		}
		if _, dup := index[k]; !dup {
			index[k] = i // a duplicate (a bootstrap's) has the same curve
		}
	}
	return func(_ context.Context, _ hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
		k, err := configKey(space, cfg)
		if err != nil {
			return nil, err
		}
		i, ok := index[k]
		if !ok {
			return nil, fmt.Errorf("%w: configuration %s is not in the pool", ErrCurves, k)
		}
		return &curveTrial{member: &members[i], index: i, mem: mem}, nil
	}, nil
}

// curveTrial is a trial served from a recorded curve.
type curveTrial struct {
	member *Member
	index  int
	epoch  int
	mem    *memStore // an in-memory replay's checkpoints; nil: folders
}

// curveState is what a curveTrial's checkpoint holds.
type curveState struct {
	Member int `json:"member"`
	Epoch  int `json:"epoch"`
}

const curveCheckpoint = "curve.json"

// Train implements hpo.Trainable: the recorded result of epoch until, or
// the recorded failure if the training failed before. The training loss
// (trainer.MetricTrainLoss) is the mean over the steps since the trial's
// previous result: over one epoch the recorded value itself; over several
// the step-weighted mean of the epochs' values (the recording reported
// every epoch), equal to what training returns up to rounding.
func (c *curveTrial) Train(ctx context.Context, until int) (hpo.Result, error) {
	if err := ctx.Err(); err != nil {
		return hpo.Result{}, err
	}
	ep := c.member.Epochs
	if c.member.Failure != "" && until > len(ep) {
		return hpo.Result{}, errors.New(c.member.Failure)
	}
	if until < 1 || until > len(ep) || until <= c.epoch {
		return hpo.Result{}, fmt.Errorf("%w: epoch %d asked of a curve at epoch %d, recorded to epoch %d", ErrCurves, until, c.epoch, len(ep))
	}
	m := maps.Clone(ep[until-1].Metrics)
	if _, ok := m[trainer.MetricTrainLoss]; ok && until-c.epoch > 1 {
		if v, ok := meanTrainLoss(ep, c.epoch, until); ok {
			m[trainer.MetricTrainLoss] = v
		}
	}
	c.epoch = until
	return hpo.Result{Budget: until, Metrics: m}, nil
}

// meanTrainLoss is the training loss over epochs from+1…until: the recorded
// epoch means weighted by the epochs' steps; ok is false when an epoch
// lacks either.
func meanTrainLoss(ep []Epoch, from, until int) (mean float64, ok bool) {
	var sum, n float64
	prev := 0.0
	if from > 0 {
		prev = ep[from-1].Metrics[trainer.MetricSteps]
	}
	for e := from; e < until; e++ {
		st, ok1 := ep[e].Metrics[trainer.MetricSteps]
		tl, ok2 := ep[e].Metrics[trainer.MetricTrainLoss]
		if !ok1 || !ok2 {
			return 0, false
		}
		sum += tl * (st - prev)
		n += st - prev
		prev = st
	}
	if !(n > 0) {
		return 0, false
	}
	return sum / n, true
}

// Save implements hpo.Trainable.
func (c *curveTrial) Save(dir string) error {
	st := curveState{Member: c.index, Epoch: c.epoch}
	if c.mem != nil && c.mem.save(dir, st) {
		return nil
	}
	b, _ := json.Marshal(st)
	return os.WriteFile(filepath.Join(dir, curveCheckpoint), b, 0o644)
}

// Restore implements hpo.Trainable.
func (c *curveTrial) Restore(dir string) error {
	path := filepath.Join(dir, curveCheckpoint)
	var st curveState
	if c.mem == nil {
		if err := readCurveState(path, &st); err != nil {
			return err
		}
	} else if mst, ok, err := c.mem.load(dir); err != nil {
		return err
	} else if ok {
		st = mst
	} else if err := readCurveState(path, &st); err != nil {
		return err
	}
	if st.Member != c.index {
		return fmt.Errorf("%s: the checkpoint of pool member %d, restored into member %d", path, st.Member, c.index)
	}
	c.epoch = st.Epoch
	return nil
}

// readCurveState reads a curveTrial's checkpoint file.
func readCurveState(path string, st *curveState) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, st); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Close implements hpo.Trainable.
func (c *curveTrial) Close() error { return nil }

// Fits checks that preset p can be replayed on the pool: the same data,
// subset, caps, augmentation, compute clock and cost model as the
// recording, no more epochs per trial than it recorded, its arms recorded,
// and replayable algorithms only. The error names what differs.
func (c *Curves) Fits(p Preset) error {
	r := c.Preset
	var diff []string
	same := func(name string, a, b any) {
		if a != b {
			diff = append(diff, fmt.Sprintf("%s: pool %v, replay %v", name, a, b))
		}
	}
	same("dataset", r.Dataset, p.Dataset)
	same("train_images", r.TrainImages, p.TrainImages)
	same("eval_limit", r.EvalLimit, p.EvalLimit)
	same("max_conv", r.MaxConv, p.MaxConv)
	same("max_fc1", r.MaxFC1, p.MaxFC1)
	same("max_fc2", r.MaxFC2, p.MaxFC2)
	same("min_batch", r.MinBatch, p.MinBatch)
	same("max_batch", r.MaxBatch, p.MaxBatch)
	same("augment", r.Augment, p.Augment)
	same("clock", r.resolved().Clock, p.resolved().Clock)
	same("costs", r.resolved().Costs, p.resolved().Costs)
	if p.MaxEpochs > r.MaxEpochs {
		diff = append(diff, fmt.Sprintf("max_epochs: pool %d, replay %d (a replay cannot train past the recorded curves)", r.MaxEpochs, p.MaxEpochs))
	}
	for _, a := range p.Arms {
		if len(c.Arms[a]) == 0 {
			diff = append(diff, fmt.Sprintf("arms: the pool has no %s arm", a))
		}
	}
	if len(diff) > 0 {
		return fmt.Errorf("%w: the preset does not fit the pool (%s)", ErrCurves, strings.Join(diff, "; "))
	}
	return nil
}
