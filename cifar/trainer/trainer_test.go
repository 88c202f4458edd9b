package trainer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/nn"
)

// toyData splits cifar.Synthetic 70/30.
func toyData(t testing.TB, n, classes int, seed uint64) Data {
	t.Helper()
	d, err := SplitData(cifar.Synthetic(n, classes, seed), cifar.SplitConfig{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var small1 = cnn.Config{Case: cnn.Case1, Conv: [3]int{4, 8, 8}, FC: [2]int{16, 8}}

func newTrainer(t testing.TB, be compute.Backend, data Data, cfg Config) *Trainer {
	t.Helper()
	tr, err := New(be, data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// snapshot returns every variable's bytes, by path.
func snapshot(t testing.TB, tr *Trainer) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for v := range tr.store.IterVariables() {
		val, err := v.Value()
		if err != nil {
			t.Fatal(err)
		}
		val.ConstBytes(func(b []byte) { out[v.Path()] = slices.Clone(b) })
	}
	return out
}

// Training N+N steps equals training N, saving, restoring into a fresh
// trainer and training N more: bit-identical variables, same losses.
func TestResumeIsExact(t *testing.T) {
	be := backendtest.Go(t)
	data := toyData(t, 200, 10, 1)
	small2 := cnn.Config{Case: cnn.Case2, Conv: [3]int{4, 4, 8}, FC: [2]int{8, 8}, Dropout: 0.3}
	data100 := toyData(t, 200, 100, 2)
	for _, tc := range []struct {
		name string
		data Data
		cfg  Config
	}{
		{"hgd", data, Config{Net: small1, BatchSize: 8, Seed: 3}},
		{"sgd-augment", data, Config{Net: small1, BatchSize: 8, Optimizer: opt(hgd.Momentum, func(c *hgd.Config) { c.Alpha0, c.Gamma0 = 0.05, 0.9 }), Augment: true, Seed: 4}},
		{"case2-dropout", data100, Config{Net: small2, BatchSize: 4, Seed: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// 140 training images: 17 steps of 8 (35 of 4) per epoch, so the
			// save falls mid-epoch and the case-1 runs cross an epoch boundary.
			const n = 12
			ctx := context.Background()
			straight := newTrainer(t, be, tc.data, tc.cfg)
			if _, err := straight.Train(ctx, 2*n); err != nil {
				t.Fatal(err)
			}
			first := newTrainer(t, be, tc.data, tc.cfg)
			if _, err := first.Train(ctx, n); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := first.Save(dir); err != nil {
				t.Fatal(err)
			}
			// Keep training the saved trainer a little: the checkpoint must not
			// alias live state.
			if _, err := first.Step(); err != nil {
				t.Fatal(err)
			}
			resumed := newTrainer(t, be, tc.data, tc.cfg)
			if err := resumed.Restore(dir); err != nil {
				t.Fatal(err)
			}
			if resumed.Steps() != n {
				t.Fatalf("restored steps %d, want %d", resumed.Steps(), n)
			}
			if _, err := resumed.Train(ctx, 2*n); err != nil {
				t.Fatal(err)
			}
			want, got := snapshot(t, straight), snapshot(t, resumed)
			if len(want) != len(got) || len(want) == 0 {
				t.Fatalf("%d variables straight, %d resumed", len(want), len(got))
			}
			for path, w := range want {
				if !bytes.Equal(w, got[path]) {
					t.Errorf("variable %s differs after resume", path)
				}
			}
			if straight.Alpha() != resumed.Alpha() || straight.Gamma() != resumed.Gamma() {
				t.Errorf("α, γ: straight %v, %v; resumed %v, %v", straight.Alpha(), straight.Gamma(), resumed.Alpha(), resumed.Gamma())
			}
		})
	}
}

func TestLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	be := backendtest.Go(t)
	data := toyData(t, 600, 10, 7)
	net := cnn.Config{Case: cnn.Case1, Conv: [3]int{8, 16, 16}, FC: [2]int{32, 16}}
	for _, cfg := range []Config{
		{Net: net, BatchSize: 16, Seed: 1, Unit: Epochs},
		{Net: net, BatchSize: 16, Seed: 1, Unit: Epochs, Optimizer: opt(hgd.Momentum, func(c *hgd.Config) { c.Alpha0, c.Gamma0 = 0.01, 0.9 })},
	} {
		t.Run(cfg.Optimizer.Kind.String(), func(t *testing.T) {
			tr := newTrainer(t, be, data, cfg)
			var res hpo.Result
			best := 0.0
			for epoch := 1; epoch <= 8; epoch++ {
				var err error
				if res, err = tr.Train(context.Background(), epoch); err != nil {
					t.Fatal(err)
				}
				best = max(best, res.Metrics[MetricAccuracy])
			}
			if got, want := tr.Steps(), 8*tr.StepsPerEpoch(); got != want {
				t.Errorf("8 epochs = %d steps, want %d", got, want)
			}
			// Chance is 0.1 (± 0.022 on 180 validation images); 0.3 is far
			// beyond what an untrained network reaches. The best epoch is
			// used because the exact trajectory depends on float rounding
			// (GOEXPERIMENT=simd or not) and HGD may overshoot for an epoch.
			if best < 0.3 {
				t.Errorf("best validation accuracy %.3f in 8 epochs (last metrics %v)", best, res.Metrics)
			}
			for _, k := range []string{MetricLoss, MetricTrainLoss, MetricAlpha, MetricGamma, MetricSteps, MetricEpochs, MetricSkipped} {
				if _, ok := res.Metrics[k]; !ok {
					t.Errorf("result lacks %q", k)
				}
			}
			if cfg.Optimizer.Kind == hgd.HGD && res.Metrics[MetricAlpha] == float64(float32(0.01)) {
				t.Error("HGD did not adapt α")
			}
			if cfg.Optimizer.Kind == hgd.Momentum && (res.Metrics[MetricAlpha] != float64(float32(0.01)) || res.Metrics[MetricGamma] != float64(float32(0.9))) {
				t.Errorf("SGD+momentum changed α, γ: %v, %v", res.Metrics[MetricAlpha], res.Metrics[MetricGamma])
			}
		})
	}
}

// A run whose loss becomes non-finite fails with ErrDiverged and leaves the
// process (and other trainers) alone.
func TestDivergence(t *testing.T) {
	be := backendtest.Go(t)
	data := toyData(t, 100, 10, 9)
	data.Norm = cifar.Normalization{Std: [3]float32{1e-30, 1e-30, 1e-30}} // inputs ~1e30: overflow
	tr := newTrainer(t, be, data, Config{Net: small1, BatchSize: 8})
	_, err := tr.Train(context.Background(), 5)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("Train = %v, want ErrDiverged", err)
	}
	if _, err := tr.Step(); !errors.Is(err, ErrClosed) {
		t.Errorf("Step after divergence = %v, want ErrClosed", err)
	}
	// Another trainer on the same backend still works.
	ok := newTrainer(t, be, toyData(t, 100, 10, 9), Config{Net: small1, BatchSize: 8})
	if _, err := ok.Train(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
}

func TestCancel(t *testing.T) {
	be := backendtest.Go(t)
	tr := newTrainer(t, be, toyData(t, 100, 10, 1), Config{Net: small1, BatchSize: 8})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Train(ctx, 3); !errors.Is(err, context.Canceled) {
		t.Fatalf("Train = %v, want context.Canceled", err)
	}
}

func TestConfigErrors(t *testing.T) {
	be := backendtest.Go(t)
	data := toyData(t, 100, 10, 1)
	for _, cfg := range []Config{
		{},
		{Net: small1, BatchSize: -1},
		{Net: small1, Optimizer: opt(hgd.HGD, func(c *hgd.Config) { c.Gamma0 = 1 })},
		{Net: small1, Optimizer: opt(hgd.HGD, func(c *hgd.Config) { c.Alpha0 = -1 })},
		{Net: small1, Optimizer: opt(hgd.Momentum, func(c *hgd.Config) { c.Alpha0 = math.Inf(1) })}, // not finite
		{Net: small1, Unit: 7},
		{Net: small1, Optimizer: opt(99, func(*hgd.Config) {})},
		{Net: small1, Optimizer: opt(hgd.HGD, func(c *hgd.Config) { c.Gamma0 = 0.995 })},     // above the optimizer's γ bound (0.99)
		{Net: small1, Optimizer: opt(hgd.HGD, func(c *hgd.Config) { c.Beta = math.Inf(1) })}, // not finite
		{Net: small1, Optimizer: opt(hgd.HGD, func(c *hgd.Config) { c.WeightDecay = math.NaN() })},
		{Net: small1, Optimizer: opt(hgd.HGD, func(c *hgd.Config) { c.Eta = -1 })},  // negative: no longer "explicit 0"
		{Net: small1, BatchSize: 1000},                                              // more than the training images
		{Net: cnn.Config{Case: cnn.Case2, Conv: [3]int{4, 4, 4}, FC: [2]int{4, 4}}}, // 100 classes, 10 in the data
	} {
		if _, err := New(be, data, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
}

func TestRestoreMismatch(t *testing.T) {
	be := backendtest.Go(t)
	data := toyData(t, 100, 10, 1)
	a := newTrainer(t, be, data, Config{Net: small1, BatchSize: 8})
	if _, err := a.Train(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := a.Save(dir); err != nil {
		t.Fatal(err)
	}
	other := small1
	other.FC[0] = 32
	b := newTrainer(t, be, data, Config{Net: other, BatchSize: 8})
	if err := b.Restore(dir); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("Restore into another network = %v, want ErrCheckpoint", err)
	}
	if err := b.Restore(t.TempDir()); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("Restore from an empty dir = %v, want ErrCheckpoint", err)
	}
}

func TestLog(t *testing.T) {
	be := backendtest.Go(t)
	var buf bytes.Buffer
	tr := newTrainer(t, be, toyData(t, 100, 10, 1), Config{Net: small1, BatchSize: 8, Log: &buf})
	if _, err := tr.Train(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	var steps, evals int
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("bad JSONL line %q: %v", sc.Text(), err)
		}
		switch ev["event"] {
		case "step":
			steps++
		case "eval":
			evals++
		}
	}
	if steps != 3 || evals != 1 {
		t.Errorf("log has %d steps and %d evaluations, want 3 and 1", steps, evals)
	}
}

// failingWriter accepts n bytes, then fails every write (a full disk).
type failingWriter struct{ n int }

var errDiskFull = errors.New("no space left on device")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

// A log that cannot be written stops training with the write's error,
// at the step whose line was lost: no later step trains unlogged.
func TestLogWriteError(t *testing.T) {
	be := backendtest.Go(t)
	w := &failingWriter{n: 300}
	tr := newTrainer(t, be, toyData(t, 100, 10, 1), Config{Net: small1, BatchSize: 8, Log: w})
	_, err := tr.Train(context.Background(), 5)
	if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), "log") {
		t.Fatalf("Train with a full disk: %v, want the log's write error", err)
	}
	if tr.Steps() >= 5 {
		t.Errorf("trained %d steps after the log failed", tr.Steps())
	}
}

// PBT may explore the batch size: a checkpoint restores into a trainer with
// another batch size at the same place in the data, with steps converted.
func TestRestoreOtherBatchSize(t *testing.T) {
	be := backendtest.Go(t)
	data := toyData(t, 200, 10, 1) // 140 training images
	a := newTrainer(t, be, data, Config{Net: small1, BatchSize: 10, Unit: Epochs, Seed: 2})
	if _, err := a.Train(context.Background(), 2); err != nil { // 2 epochs of 14 steps
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := a.Save(dir); err != nil {
		t.Fatal(err)
	}
	b := newTrainer(t, be, data, Config{Net: small1, BatchSize: 20, Unit: Epochs, Seed: 2})
	if err := b.Restore(dir); err != nil {
		t.Fatal(err)
	}
	if b.Steps() != 2*b.StepsPerEpoch() || b.Epochs() != 2 {
		t.Fatalf("restored at step %d (%v epochs), want %d (2 epochs)", b.Steps(), b.Epochs(), 2*b.StepsPerEpoch())
	}
	wa, wb := snapshot(t, a), snapshot(t, b)
	for path, w := range wa {
		if !bytes.Equal(w, wb[path]) {
			t.Errorf("variable %s differs after restore", path)
		}
	}
	res, err := b.Train(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if res.Metrics[MetricEpochs] != 3 {
		t.Errorf("epochs after training to 3: %v", res.Metrics[MetricEpochs])
	}
}

// An exploit that does not copy the donor's adapted α and γ resets them to
// the trainer's initial values and keeps the weights.
func TestResetAdaptedHyperparameters(t *testing.T) {
	be := backendtest.Go(t)
	data := toyData(t, 200, 10, 1)
	donor := newTrainer(t, be, data, Config{Net: small1, BatchSize: 8, Seed: 1, Optimizer: opt(hgd.HGD, func(c *hgd.Config) { c.Alpha0, c.Gamma0 = 0.05, 0.5 })})
	if _, err := donor.Train(context.Background(), 30); err != nil {
		t.Fatal(err)
	}
	if donor.Alpha() == float64(float32(0.05)) && donor.Gamma() == float64(float32(0.5)) {
		t.Fatal("HGD did not adapt α or γ in 30 steps; the test needs it to")
	}
	dir := t.TempDir()
	if err := donor.Save(dir); err != nil {
		t.Fatal(err)
	}
	target := newTrainer(t, be, data, Config{Net: small1, BatchSize: 8, Seed: 9, Optimizer: opt(hgd.HGD, func(c *hgd.Config) { c.Alpha0, c.Gamma0 = 0.02, 0.8 })})
	if err := target.Restore(dir); err != nil {
		t.Fatal(err)
	}
	if target.Alpha() != donor.Alpha() {
		t.Errorf("restore copied α %v, donor has %v", target.Alpha(), donor.Alpha())
	}
	if err := target.ResetAdaptedHyperparameters(); err != nil {
		t.Fatal(err)
	}
	if target.Alpha() != float64(float32(0.02)) || target.Gamma() != float64(float32(0.8)) {
		t.Errorf("after reset α = %v, γ = %v; want the target's initial 0.02, 0.8", target.Alpha(), target.Gamma())
	}
	wd, wt := snapshot(t, donor), snapshot(t, target)
	for path, w := range wd {
		if strings.HasSuffix(path, "/alpha") || strings.HasSuffix(path, "/gamma") {
			continue
		}
		if !bytes.Equal(w, wt[path]) {
			t.Errorf("variable %s changed by the reset", path)
		}
	}
}

// Config.Normalized reaches the optimizer: the multiplicative rule moves α
// by at most a factor (1 ± β) per step.
func TestNormalizedRule(t *testing.T) {
	be := backendtest.Go(t)
	tr := newTrainer(t, be, toyData(t, 200, 10, 1), Config{Net: small1, BatchSize: 8, Optimizer: opt(hgd.HGD, func(c *hgd.Config) { c.Normalized, c.Beta, c.Alpha0 = true, 0.01, 0.01 })})
	prev := tr.Alpha()
	moved := false
	for range 10 {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
		a := tr.Alpha()
		if r := a / prev; r > 1.01+1e-6 || r < 0.99-1e-6 {
			t.Fatalf("α went from %v to %v in one step: more than the normalized rule allows", prev, a)
		}
		moved = moved || a != prev
		prev = a
	}
	if !moved {
		t.Error("α never changed")
	}
}

// Zero Beta and Eta are zeros, not defaults: HGD then keeps α and γ.
func TestExplicitZeroStepSizes(t *testing.T) {
	be := backendtest.Go(t)
	tr := newTrainer(t, be, toyData(t, 200, 10, 1), Config{Net: small1, BatchSize: 8, Optimizer: opt(hgd.HGD, func(c *hgd.Config) { c.Beta, c.Eta, c.Alpha0, c.Gamma0 = 0, 0, 0.02, 0.8 })})
	if _, err := tr.Train(context.Background(), 20); err != nil {
		t.Fatal(err)
	}
	if tr.Alpha() != float64(float32(0.02)) || tr.Gamma() != float64(float32(0.8)) {
		t.Errorf("β = η = 0 changed α, γ to %v, %v", tr.Alpha(), tr.Gamma())
	}
}

// Restore refuses checkpoints that do not fit, and leaves the trainer as it
// was: another optimizer, a checkpoint without this trainer's variables
// (saved before the first step), a corrupt variable index.
func TestRestoreRefusals(t *testing.T) {
	be := backendtest.Go(t)
	data := toyData(t, 200, 10, 1)
	ctx := context.Background()
	hgdTrained := newTrainer(t, be, data, Config{Net: small1, BatchSize: 8})
	if _, err := hgdTrained.Train(ctx, 3); err != nil {
		t.Fatal(err)
	}
	hgdDir := t.TempDir()
	if err := hgdTrained.Save(hgdDir); err != nil {
		t.Fatal(err)
	}
	sgd := newTrainer(t, be, data, Config{Net: small1, BatchSize: 8, Optimizer: hgd.Defaults(hgd.Momentum)})
	if err := sgd.Restore(hgdDir); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("HGD checkpoint into an SGD trainer: %v", err)
	}

	emptyDir := t.TempDir()
	if err := newTrainer(t, be, data, Config{Net: small1, BatchSize: 8}).Save(emptyDir); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, hgdTrained)
	if err := hgdTrained.Restore(emptyDir); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("empty checkpoint into a trained trainer: %v", err)
	}
	if hgdTrained.Steps() != 3 {
		t.Errorf("a refused restore changed the step count to %d", hgdTrained.Steps())
	}
	for path, w := range snapshot(t, hgdTrained) {
		if !bytes.Equal(w, before[path]) {
			t.Errorf("a refused restore changed %s", path)
		}
	}

	js, err := os.ReadFile(filepath.Join(hgdDir, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(js), `"dims": [`, `"dims": [-3, `, 1)
	if bad == string(js) {
		t.Fatal("the fixture edit did not apply")
	}
	if err := os.WriteFile(filepath.Join(hgdDir, stateFile), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := newTrainer(t, be, data, Config{Net: small1, BatchSize: 8}).Restore(hgdDir); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("negative dimension: %v", err)
	}
}

// opt is kind's default optimizer configuration changed by set.
func opt(kind hgd.Kind, set func(*hgd.Config)) hgd.Config {
	c := hgd.Defaults(kind)
	set(&c)
	return c
}

// TestImplFromBackend checks that New picks the layer implementation from
// its backend when the network leaves it nn.Auto, and keeps an explicit one.
func TestImplFromBackend(t *testing.T) {
	be := backendtest.Go(t)
	data := toyData(t, 100, 10, 1)
	if got := ImplFor(be); got != nn.Im2Col {
		t.Errorf("ImplFor(go backend %q) = %v, want im2col", be.Name(), got)
	}
	for impl, want := range map[nn.Impl]nn.Impl{nn.Auto: nn.Im2Col, nn.Standard: nn.Standard, nn.Im2Col: nn.Im2Col} {
		net := small1
		net.Impl = impl
		tr := newTrainer(t, be, data, Config{Net: net})
		if got := tr.Config().Net.Impl; got != want {
			t.Errorf("Net.Impl %v: the trainer uses %v, want %v", impl, got, want)
		}
	}
}
