package reproduce

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hpo"
)

// tinyPool records a curve pool of tinyPreset: 5 SGD configurations and
// the HGD arm's whole space (3 configurations: widths capped to one value
// each, three batch sizes).
func tinyPool(t *testing.T, be Options) (*Curves, string) {
	t.Helper()
	p := tinyPreset(Recording)
	p.PoolSGD, p.PoolHGD = 5, 3
	p.Budget = Duration(BudgetLimit)
	dir := filepath.Join(t.TempDir(), "pool")
	c, err := Record(context.Background(), Options{Preset: p, Dir: dir, Data: be.Data, Backend: be.Backend, BackendSpec: "go"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, CurvesFile)
	loaded, err := LoadCurves(path)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.ID() != c.ID() {
		t.Fatalf("the pool read back is %s, recorded %s", loaded.ID(), c.ID())
	}
	return loaded, path
}

// A replayed run is the run that real training with the same draws gives:
// journals, results and summary bit for bit (but the journals' wall-clock
// times), for every replayable algorithm in both arms. Hyperband and ASHA
// in promotion form pause trials and resume them from checkpoints, so the
// replay's continued curves are checked against resumed training.
func TestReplayIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a tiny CNN pool")
	}
	be := backendtest.Go(t)
	data := toyDataset(400)
	pool, _ := tinyPool(t, Options{Data: data, Backend: be})
	for arm, n := range map[string]int{"sgd": 5, "hgd": 3} {
		if got := len(pool.Arms[arm]); got != n {
			t.Fatalf("%s arm: %d members, want %d", arm, got, n)
		}
	}
	p := tinyPreset(HyperBand, ASHA, AHB, Random)
	p.ASHAMode = "promotion"
	p.Budget = Duration(4 * time.Second)
	p.Replay = pool.ID()
	replayDir := filepath.Join(t.TempDir(), "replay")
	if _, err := Run(context.Background(), Options{Preset: p, Dir: replayDir, Curves: pool}); err != nil {
		t.Fatal(err)
	}
	// Run again, a replay folder reads back as it is.
	if _, err := Run(context.Background(), Options{Preset: p, Dir: replayDir, Curves: pool}); err != nil {
		t.Fatalf("replaying a finished replay folder again: %v", err)
	}
	split, err := splitData(data, p)
	if err != nil {
		t.Fatal(err)
	}
	if split.Train.Len() != pool.TrainImages || evalImages(p, split) != pool.EvalImages {
		t.Fatalf("pool charged %d/%d images, the split has %d/%d", pool.TrainImages, pool.EvalImages, split.Train.Len(), evalImages(p, split))
	}
	// The same draws, trained for real: each trial is built as the
	// recording built its member, with the member's seed.
	live := Options{Preset: p, Dir: filepath.Join(t.TempDir(), "live"), Curves: pool, Data: data, Backend: be}
	seeds := map[string]uint64{}
	for armName, ms := range pool.Arms {
		space, _ := p.Space(mustArm(t, armName))
		for _, m := range ms {
			k, _ := configKey(space, m.Config)
			seeds[armName+k] = m.Seed
		}
	}
	live.Trainables = func(_ context.Context, _ hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
		arm := cnn.ArmHGD
		if _, ok := cfg["learning_rate"]; ok {
			arm = cnn.ArmSGD
		}
		space, _ := p.Space(arm)
		k, err := configKey(space, cfg)
		if err != nil {
			return nil, err
		}
		seed, ok := seeds[arm.String()+k]
		if !ok {
			t.Errorf("trial config %s is not in the pool", k)
		}
		tr, err := newCNNTrial(live, split, arm, seed, cfg)
		if err != nil {
			return nil, err
		}
		return tr, nil
	}
	if _, err := Run(context.Background(), live); err != nil {
		t.Fatal(err)
	}
	// The training loss of a job of several epochs is rebuilt from the
	// epochs' means: equal up to rounding (curveTrial.Train); everything
	// else is equal bit for bit.
	sameResults(t, roundTrainLoss(t, replayDir), roundTrainLoss(t, live.Dir))
	r, err := Load(replayDir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Trials < 16 {
		t.Errorf("the replay ran %d trials in all; the test means little with so few", r.Trials)
	}
}

// The pool's SGD learning rates come from ½ log-uniform + ½ uniform, and
// the replay weights make them follow either prior: the weighted share
// below 1e-3 is about 46% under the log prior and 0.5% under the uniform
// one, and the effective sample size of each is near n/1.52.
func TestPoolWeights(t *testing.T) {
	p := Presets()["cpu-study"]
	space, err := p.Space(cnn.ArmSGD)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	d, err := newPoolDraws(space, cnn.ArmSGD, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	members := make([]Member, n)
	for i := range members {
		members[i].Config = d.member(i)
	}
	for _, c := range []struct {
		prior      string
		below, tol float64
	}{{LRPriorLog, math.Log(1e-3/1e-5) / math.Log(0.2/1e-5), 0.02}, {LRPriorUniform, (1e-3 - 1e-5) / (0.2 - 1e-5), 0.005}} {
		q := p
		q.LRPrior = c.prior
		w := replayWeights(q, cnn.ArmSGD, members)
		var sum, low float64
		for i, m := range members {
			sum += w[i]
			if m.Config.Float("learning_rate") < 1e-3 {
				low += w[i]
			}
		}
		if got := low / sum; math.Abs(got-c.below) > c.tol {
			t.Errorf("%s prior: weighted share below 1e-3 = %.4f, want %.4f ± %.3f", c.prior, got, c.below, c.tol)
		}
		if ess := ESS(w); math.Abs(ess/n-1/1.519) > 0.02 {
			t.Errorf("%s prior: ESS %.0f of %d, want about n/1.519", c.prior, ess, n)
		}
	}
}

// The HGD arm's pool is its space without repetition: a pool as large as
// the space holds every configuration once, and a larger one is refused.
func TestPoolCoversDiscreteSpace(t *testing.T) {
	p := Presets()["cpu-study"]
	space, err := p.Space(cnn.ArmHGD)
	if err != nil {
		t.Fatal(err)
	}
	if ok, size := choicesOnly(space); !ok || size != 324 {
		t.Fatalf("cpu-study's HGD space: choices only %v, %d configurations; want 324", ok, size)
	}
	d, err := newPoolDraws(space, cnn.ArmHGD, 0, 324)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := range 324 {
		k, err := configKey(space, d.member(i))
		if err != nil {
			t.Fatal(err)
		}
		if seen[k] {
			t.Fatalf("member %d repeats %s", i, k)
		}
		seen[k] = true
	}
	if _, err := newPoolDraws(space, cnn.ArmHGD, 0, 325); !errors.Is(err, ErrConfig) {
		t.Errorf("a pool of 325 in a space of 324: err %v, want ErrConfig", err)
	}
}

// Weighted draws without replacement: every member of positive weight once,
// none of weight 0, heavier members earlier on average, and the same order
// for the same seed.
func TestReplayOrder(t *testing.T) {
	w := []float64{1, 0, 4, 1, 4}
	first := map[int]int{}
	for seed := range uint64(4000) {
		o := replayOrder(w, seed)
		if len(o) != 4 {
			t.Fatalf("order %v: want the 4 members of positive weight", o)
		}
		for _, i := range o {
			if i == 1 {
				t.Fatalf("order %v holds the member of weight 0", o)
			}
		}
		first[o[0]]++
		if again := replayOrder(w, seed); !equalInts(again, o) {
			t.Fatalf("seed %d: orders %v and %v", seed, o, again)
		}
	}
	// P(first = i) = w_i / Σw: 0.4 for members 2 and 4, 0.1 for 0 and 3.
	for i, want := range map[int]float64{0: 0.1, 2: 0.4, 3: 0.1, 4: 0.4} {
		if got := float64(first[i]) / 4000; math.Abs(got-want) > 0.03 {
			t.Errorf("member %d first in %.3f of the orders, want %.2f", i, got, want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// PBT, PB2 and the genetic algorithm are refused on a pool, saying why;
// a preset that does not fit the pool is refused naming the field.
func TestReplayRefusals(t *testing.T) {
	p := Presets()["cpu-study"]
	p.Replay = "sha256:0000000000000000"
	for alg, want := range map[string]string{PBT: "change a trial's hyperparameters", PB2: "change a trial's hyperparameters", Genetic: "not in the pool"} {
		q := p
		q.Algorithms = []string{alg}
		err := q.Validate()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want ErrConfig saying %q", alg, err, want)
		}
	}
	rec := p
	rec.Replay, rec.Algorithms, rec.PoolSGD, rec.PoolHGD = "", []string{Recording}, 3, 3
	c := &Curves{Preset: rec, Arms: map[string][]Member{"sgd": {{}}, "hgd": {{}}}}
	q := p
	q.Algorithms = []string{ASHA}
	q.TrainImages = 2000
	if err := c.Fits(q); !errors.Is(err, ErrCurves) || !strings.Contains(err.Error(), "train_images: pool 5000, replay 2000") {
		t.Errorf("other images: err %v", err)
	}
	q = p
	q.MaxEpochs = 27
	if err := c.Fits(q); err == nil || !strings.Contains(err.Error(), "max_epochs") {
		t.Errorf("more epochs than recorded: err %v", err)
	}
}

var trainLossValue = regexp.MustCompile(`("train_loss":)([-+0-9.eE]+)`)

// roundTrainLoss copies a results folder with every training loss of its
// journals and results.csv files rounded to 11 significant digits.
func roundTrainLoss(t *testing.T, dir string) string {
	t.Helper()
	out := copyTree(t, dir)
	round := func(v string) string {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("train_loss %q: %v", v, err)
		}
		return strconv.FormatFloat(f, 'g', 11, 64)
	}
	runs, _ := filepath.Glob(filepath.Join(out, "runs", "*"))
	for _, r := range runs {
		jp := filepath.Join(r, "journal.jsonl")
		b, err := os.ReadFile(jp)
		if err != nil {
			t.Fatal(err)
		}
		b = trainLossValue.ReplaceAllFunc(b, func(m []byte) []byte {
			sub := trainLossValue.FindSubmatch(m)
			return append(sub[1], round(string(sub[2]))...)
		})
		if err := os.WriteFile(jp, b, 0o644); err != nil {
			t.Fatal(err)
		}
		cp := filepath.Join(r, "results.csv")
		f, err := os.Open(cp)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		col := slices.Index(rows[0], "train_loss")
		for _, row := range rows[1:] {
			if col >= 0 && row[col] != "" {
				row[col] = round(row[col])
			}
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.WriteAll(rows)
		if err := os.WriteFile(cp, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// A member whose training failed keeps its curve up to the failure and the
// trainer's error; a replay that trains it that far fails the trial with
// the same error, as real training would. A recording folder resumes: the
// same command again trains nothing.
func TestRecordFailedMember(t *testing.T) {
	f := &fakeTrials{failTrain: map[hpo.TrialID]bool{2: true}}
	o := fakeOptions(t, f, Recording)
	o.Preset.PoolSGD, o.Preset.PoolHGD, o.Preset.Budget = 4, 3, Duration(BudgetLimit)
	c, err := Record(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for arm, n := range map[string]int{"sgd": 4, "hgd": 3} {
		ms := c.Arms[arm]
		if len(ms) != n {
			t.Fatalf("%s: %d members, want %d", arm, len(ms), n)
		}
		for i, m := range ms {
			want := o.Preset.MaxEpochs
			if i == 2 {
				want = 0
				if m.Failure != "fake training failure" {
					t.Errorf("%s member 2: failure %q", arm, m.Failure)
				}
			}
			if len(m.Epochs) != want {
				t.Errorf("%s member %d: %d epochs, want %d", arm, i, len(m.Epochs), want)
			}
		}
	}
	built := f.built
	if _, err := Record(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if f.built != built {
		t.Errorf("recording again built %d trainables", f.built-built)
	}
	pool, err := LoadCurves(filepath.Join(o.Dir, CurvesFile))
	if err != nil {
		t.Fatal(err)
	}
	p := o.Preset
	p.Algorithms, p.PoolSGD, p.PoolHGD, p.Replay, p.Seeds, p.Budget = []string{Random}, 0, 0, pool.ID(), 3, Duration(time.Minute)
	dir := filepath.Join(t.TempDir(), "replay")
	s, err := Run(context.Background(), Options{Preset: p, Dir: dir, Curves: pool})
	if err != nil {
		t.Fatal(err)
	}
	if s.Trials != 3*(4+3) || s.Failed != 3*2 {
		t.Errorf("replay: %d trials, %d failed; want every member drawn and member 2 failing in each run", s.Trials, s.Failed)
	}
	b, err := os.ReadFile(filepath.Join(dir, "runs", "random-sgd-s0", "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"hpo: trial failed: train: fake training failure"`) {
		t.Errorf("the replay's journal lacks the recorded failure:\n%s", b)
	}
}

// A worker builds a recording's runs as Record does: every epoch reported,
// the pool's configurations in order; a replay is not a worker's.
func TestLookupRecording(t *testing.T) {
	p := tinyPreset(Recording)
	p.PoolSGD, p.PoolHGD, p.Budget = 5, 3, Duration(BudgetLimit)
	lookup := Lookup(LookupOptions{Backend: backendtest.Go(t), BackendSpec: "go",
		Load: func(context.Context, string) (*cifar.Dataset, error) { return toyDataset(400), nil }})
	settings, err := json.Marshal(RunSettings{Preset: p, Algorithm: Recording, Arm: "sgd", Seed: 0})
	if err != nil {
		t.Fatal(err)
	}
	e, err := lookup(context.Background(), "pool/curves-sgd-s0", settings)
	if err != nil {
		t.Fatal(err)
	}
	fifo, ok := e.Scheduler.(*hpo.FIFO)
	if !ok || fifo.Step != 1 || fifo.MaxBudget != p.MaxEpochs {
		t.Errorf("scheduler %#v, want FIFO reporting every epoch to %d", e.Scheduler, p.MaxEpochs)
	}
	space, _ := p.Space(cnn.ArmSGD)
	draws, _ := newPoolDraws(space, cnn.ArmSGD, 0, 5)
	for id := range hpo.TrialID(6) {
		cfg, err := e.Searcher.Suggest(nil, id)
		if id == 5 {
			if !errors.Is(err, hpo.ErrExhausted) {
				t.Errorf("trial 5 of a pool of 5: err %v, want ErrExhausted", err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(cfg, draws.member(int(id))) {
			t.Errorf("trial %d: %v, %v; want member %d %v", id, cfg, err, id, draws.member(int(id)))
		}
	}
	q := tinyPreset(ASHA)
	q.Replay = "sha256:0123456789abcdef"
	settings, _ = json.Marshal(RunSettings{Preset: q, Algorithm: ASHA, Arm: "sgd"})
	if _, err := lookup(context.Background(), "replay/asha-sgd-s0", settings); !errors.Is(err, ErrConfig) {
		t.Errorf("a replay's settings: err %v, want ErrConfig", err)
	}
}
