package cnn

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/nn"
)

func randomImages(r *rand.Rand, n int) *tensors.Tensor {
	data := make([]float32, n*32*32*3)
	for i := range data {
		data[i] = float32(r.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(data, n, 32, 32, 3)
}

// logits runs the model once (inference) and returns its output and the
// total number of elements of the trainable variables it created.
func logits(t *testing.T, cfg Config, x *tensors.Tensor, seed int64) ([]float32, []int, int) {
	t.Helper()
	be := backendtest.Go(t)
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, seed)
	exec, err := model.NewExec(be, store, func(scope *model.Scope, x *Node) *Node {
		scope = scope.In("model")
		nn.Inference(scope, x.Graph())
		return cfg.Model()(scope, x)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	defer be.Finalize()
	xc, err := x.LocalClone()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Call1(xc)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	var vals []float32
	out.ConstFlatData(func(f any) { vals = append(vals, f.([]float32)...) })
	params := 0
	for v := range store.IterVariables() {
		if v.Trainable {
			params += v.Shape().Size()
		}
	}
	return vals, out.Shape().Dimensions, params
}

func TestModelShapesAndParams(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := randomImages(r, 3)
	for _, cfg := range []Config{
		{Case: Case1, Conv: [3]int{4, 8, 16}, FC: [2]int{32, 16}},
		{Case: Case2, Conv: [3]int{8, 16, 16}, FC: [2]int{16, 8}, Activation: "swish"},
	} {
		t.Run(cfg.String(), func(t *testing.T) {
			out, dims, params := logits(t, cfg, x, 42)
			if !slices.Equal(dims, []int{3, cfg.Case.Classes()}) {
				t.Fatalf("logits shape %v, want [3 %d]", dims, cfg.Case.Classes())
			}
			if params != cfg.Params() {
				t.Errorf("trainable parameters %d, Params() = %d", params, cfg.Params())
			}
			for i, v := range out {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("logit %d = %v", i, v)
				}
			}
			// Same seed → same initialization → same logits.
			again, _, _ := logits(t, cfg, x, 42)
			if !slices.Equal(out, again) {
				t.Error("same seed gave different logits")
			}
		})
	}
}

// The im2col and the standard implementations compute the same network.
func TestModelImplParity(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := randomImages(r, 2)
	cfg := Config{Case: Case1, Conv: [3]int{4, 8, 8}, FC: [2]int{16, 8}}
	cfg.Impl = nn.Im2Col
	fast, _, _ := logits(t, cfg, x, 7)
	cfg.Impl = nn.Standard
	std, _, _ := logits(t, cfg, x, 7)
	if len(fast) == 0 || len(fast) != len(std) {
		t.Fatalf("%d logits from im2col, %d from the standard ops", len(fast), len(std))
	}
	for i := range fast {
		if d := math.Abs(float64(fast[i] - std[i])); d > 1e-4*math.Max(1, math.Abs(float64(std[i]))) {
			t.Fatalf("logit %d: im2col %v, standard %v", i, fast[i], std[i])
		}
	}
}

func TestParamsCount(t *testing.T) {
	// Case 1 at conv 32/64/128, fc 256/128, by hand:
	// conv 3·3·3·32+32, 3·3·32·64+64, 3·3·64·128+128; fc 2048·256+256,
	// 256·128+128; out 128·10+10.
	want := 896 + 18496 + 73856 + 524544 + 32896 + 1290
	if got := Default(Case1).Params(); got != want {
		t.Errorf("Params = %d, want %d", got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []Config{
		{},
		{Case: 3, Conv: [3]int{1, 1, 1}, FC: [2]int{1, 1}},
		{Case: Case1, Conv: [3]int{0, 1, 1}, FC: [2]int{1, 1}},
		{Case: Case1, Conv: [3]int{1, 1, 1}, FC: [2]int{1, -1}},
		{Case: Case2, Conv: [3]int{1, 1, 1}, FC: [2]int{1, 1}, Dropout: 1},
		{Case: Case2, Conv: [3]int{1, 1, 1}, FC: [2]int{1, 1}, Activation: "tanh"},
	} {
		if err := tc.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: Validate = %v, want ErrConfig", tc, err)
		}
	}
	for _, c := range []Case{Case1, Case2} {
		if err := Default(c).Validate(); err != nil {
			t.Errorf("Default(%v): %v", c, err)
		}
	}
}

// The spaces are Table 2 of the paper (../shared/paper/NOTES.md).
func TestSpaces(t *testing.T) {
	w1 := Table2(Case1)
	if !slices.Equal(w1.Conv[0], []int{4, 8, 16, 32, 64, 128, 256, 512}) ||
		!slices.Equal(w1.FC[0], []int{128, 256, 512, 1024, 2048}) ||
		!slices.Equal(w1.FC[1], []int{32, 64, 128, 256}) ||
		!slices.Equal(w1.Batch, []int{4, 8, 16, 32, 64}) {
		t.Errorf("case 1 domains: %+v", w1)
	}
	w2 := Table2(Case2)
	if !slices.Equal(w2.Conv[0], []int{8, 16, 32, 64, 128}) ||
		!slices.Equal(w2.Conv[1], []int{32, 64, 128, 256, 512, 1024, 2048}) ||
		!slices.Equal(w2.Conv[2], []int{64, 128, 256, 512, 1024, 2048, 4096}) ||
		!slices.Equal(w2.FC[0], []int{64, 128, 256, 512, 1024, 2048, 4096}) ||
		!slices.Equal(w2.FC[1], []int{32, 64, 128, 256, 512, 1024, 2048}) ||
		!slices.Equal(w2.Batch, []int{32, 64, 128, 256}) {
		t.Errorf("case 2 domains: %+v", w2)
	}
	for _, c := range []Case{Case1, Case2} {
		sgd, hgdSpace := Space(c, ArmSGD), Space(c, ArmHGD)
		if err := sgd.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := hgdSpace.Validate(); err != nil {
			t.Fatal(err)
		}
		if len(sgd) != 8 || len(hgdSpace) != 6 {
			t.Fatalf("%v: %d and %d parameters, want 8 and 6", c, len(sgd), len(hgdSpace))
		}
		for _, p := range OptimizerParams() {
			if !slices.Contains(sgd.Names(), p) || slices.Contains(hgdSpace.Names(), p) {
				t.Errorf("%v: %q must be in the SGD space only", c, p)
			}
		}
		r := rand.New(rand.NewPCG(5, uint64(c)))
		for range 200 {
			for _, arm := range []Arm{ArmSGD, ArmHGD} {
				cfg := Space(c, arm).Sample(r)
				tr, err := FromConfig(c, arm, cfg)
				if err != nil {
					t.Fatalf("%v/%v: FromConfig(%v): %v", c, arm, cfg, err)
				}
				if !Table2(c).Contains(tr.Net, tr.BatchSize) {
					t.Fatalf("%v: sampled %+v outside Table 2", c, tr)
				}
				lr, momentum := tr.Optimizer.Alpha0, tr.Optimizer.Gamma0
				if arm == ArmSGD && (lr < 1e-5 || lr > 0.2 || momentum < 0.7 || momentum > 0.99) {
					t.Fatalf("lr %v momentum %v outside Table 2", lr, momentum)
				}
				if arm == ArmSGD && (tr.Optimizer.Kind != hgd.Momentum || lr != cfg[ParamLearningRate] || momentum != cfg[ParamMomentum]) {
					t.Fatalf("SGD arm trial has optimizer %+v for configuration %v", tr.Optimizer, cfg)
				}
				if arm == ArmHGD && tr.Optimizer != hgd.Defaults(hgd.HGD) {
					t.Fatalf("HGD arm trial has optimizer %+v", tr.Optimizer)
				}
			}
		}
	}
}

func TestFromConfigErrors(t *testing.T) {
	good := hpo.Config{ParamConv1: 32, ParamConv2: 64, ParamConv3: 128, ParamFC1: 256, ParamFC2: 128, ParamBatchSize: 32}
	if _, err := FromConfig(Case1, ArmHGD, good); err != nil {
		t.Fatal(err)
	}
	bad := []hpo.Config{
		{ParamConv1: 32},
		{ParamConv1: 33, ParamConv2: 64, ParamConv3: 128, ParamFC1: 256, ParamFC2: 128, ParamBatchSize: 32},
		{ParamConv1: 32, ParamConv2: 64, ParamConv3: 128, ParamFC1: 256, ParamFC2: 128, ParamBatchSize: 32, ParamLearningRate: 0.1},
	}
	for _, cfg := range bad {
		if _, err := FromConfig(Case1, ArmHGD, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("FromConfig(%v) = %v, want ErrConfig", cfg, err)
		}
	}
	if _, err := FromConfig(Case1, ArmSGD, good); !errors.Is(err, ErrConfig) {
		t.Error("SGD arm without learning rate accepted")
	}
}

// FLOPs counts the multiply-adds of every layer at its resolution, written
// out by hand for one case-1 and one case-2 network.
func TestFLOPs(t *testing.T) {
	c1 := Config{Case: Case1, Conv: [3]int{16, 32, 64}, FC: [2]int{128, 64}}
	want1 := 2.0 * (32*32*9*3*16 + 16*16*9*16*32 + 8*8*9*32*64 + 4*4*64*128 + 128*64 + 64*10)
	if got := c1.FLOPs(); got != want1 {
		t.Errorf("case 1: %v FLOPs, want %v", got, want1)
	}
	c2 := Config{Case: Case2, Conv: [3]int{16, 32, 64}, FC: [2]int{128, 64}}
	want2 := 2.0 * (32*32*25*3*32 + 32*32*9*32*16 + 16*16*9*16*32 + 8*8*9*32*64 + 4*4*64*128 + 128*64 + 64*100)
	if got := c2.FLOPs(); got != want2 {
		t.Errorf("case 2: %v FLOPs, want %v", got, want2)
	}
}

// Widths far beyond Table 2's are refused before anything is built, with
// the parameter count and the memory they would need; Table 2's largest
// networks pass.
func TestValidateRefusesHugeNetworks(t *testing.T) {
	huge := Config{Case: Case1, Conv: [3]int{8, 8, 8}, FC: [2]int{99999999, 99999999}}
	err := huge.Validate()
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "fc1 width 99999999") {
		t.Errorf("fc 99999999: err %v, want ErrConfig naming the width", err)
	}
	wide := Config{Case: Case1, Conv: [3]int{8, 8, 8}, FC: [2]int{60000, 60000}}
	err = wide.Validate()
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "parameters") || !strings.Contains(err.Error(), "GiB") {
		t.Errorf("fc 60000,60000: err %v, want ErrConfig with the parameters and the memory", err)
	}
	for _, c := range []Case{Case1, Case2} {
		w := Table2(c)
		big := Config{Case: c, Conv: [3]int{w.Conv[0][len(w.Conv[0])-1], w.Conv[1][len(w.Conv[1])-1], w.Conv[2][len(w.Conv[2])-1]},
			FC: [2]int{w.FC[0][len(w.FC[0])-1], w.FC[1][len(w.FC[1])-1]}}
		if err := big.Validate(); err != nil {
			t.Errorf("Table 2's largest %s network: %v", c, err)
		}
		if m := big.TrainingMemory(w.Batch[len(w.Batch)-1]); m > MemoryLimit/2 {
			t.Errorf("Table 2's largest %s network needs %.1f GiB by the estimate", c, m/(1<<30))
		}
	}
}
