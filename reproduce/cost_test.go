package reproduce

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
)

// The cost model charges steps (epochs × training images / batch) at the
// calibrated cost of the network's FLOPs, one evaluation per result, and
// HGD's measured overhead to the HGD arm only; it is a pure function.
func TestTrialCost(t *testing.T) {
	p := Presets()["cpu-quick"]
	cfg := hpo.Config{cnn.ParamConv1: 16, cnn.ParamConv2: 16, cnn.ParamConv3: 16, cnn.ParamFC1: 256, cnn.ParamFC2: 64,
		cnn.ParamBatchSize: 32, cnn.ParamLearningRate: 0.01, cnn.ParamMomentum: 0.9}
	net := cnn.Config{Case: cnn.Case1, Conv: [3]int{16, 16, 16}, FC: [2]int{256, 64}}
	for _, m := range CostModels() {
		t.Run(m.Name, func(t *testing.T) {
			sgd := m.trialCost(p, cnn.ArmSGD, 1400, 600)
			step := m.StepOverhead + m.StepPerFLOP*3*net.FLOPs()*32
			want := 3*(1400/32)*step + m.EvalPerFLOP*net.FLOPs()*600
			if got := sgd(cfg, 2, 5).Seconds(); abs(got-want) > 1e-9 {
				t.Errorf("SGD cost %v s, want %v s", got, want)
			}
			if sgd(cfg, 2, 5) != sgd(cfg, 2, 5) {
				t.Error("the cost is not a pure function")
			}
			if a, b := sgd(cfg, 0, 1), sgd(cfg, 0, 2); b <= a {
				t.Errorf("two epochs cost %v, one %v", b, a)
			}
			hcfg := cfg.Clone()
			delete(hcfg, cnn.ParamLearningRate)
			delete(hcfg, cnn.ParamMomentum)
			hgdCost := m.trialCost(p, cnn.ArmHGD, 1400, 600)(hcfg, 2, 5).Seconds()
			wantH := 3*(1400/32)*step*m.HGDFactor + m.EvalPerFLOP*net.FLOPs()*600
			if abs(hgdCost-wantH) > 1e-9 {
				t.Errorf("HGD cost %v s, want %v s", hgdCost, wantH)
			}
			if m.HGDFactor > 1 && m.Step(net, 32, hgd.HGD) <= m.Step(net, 32, hgd.Momentum) {
				t.Error("HGD's step is not charged its overhead")
			}
			if c := sgd(hpo.Config{"nonsense": 1}, 0, 1); c != time.Duration(0) {
				t.Errorf("an invalid configuration costs %v", c)
			}
		})
	}
}

// The published models: unique names, positive prices, the current one
// among them; "" is the current one and an unknown name is refused.
func TestCostModels(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range CostModels() {
		if seen[m.Name] || m.Name == "" || m.Measured == "" {
			t.Errorf("model %q: empty or repeated name, or no Measured", m.Name)
		}
		seen[m.Name] = true
		if m.StepOverhead <= 0 || m.StepPerFLOP <= 0 || m.EvalPerFLOP <= 0 || m.HGDFactor < 1 {
			t.Errorf("model %s: %+v", m.Name, m)
		}
	}
	if m, err := CostModelNamed(""); err != nil || m.Name != CostsCurrent {
		t.Errorf(`CostModelNamed("") = %v, %v`, m.Name, err)
	}
	if _, err := CostModelNamed("gomlx-v9"); !errors.Is(err, ErrConfig) {
		t.Errorf("an unknown model: %v", err)
	}
	p := Presets()["cpu-quick"]
	p.Costs = "gomlx-v9"
	if err := p.Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("a preset with an unknown model validates: %v", err)
	}
	p = Presets()["paper"]
	p.Costs = CostsCurrent
	if err := p.Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("a wall-clock preset with a cost model validates: %v", err)
	}
}

// A preset written to JSON names its cost model, but for the first one,
// which folders made before models had names record by leaving it out;
// read back, each is the model it was written with.
func TestCostModelInJSON(t *testing.T) {
	for _, c := range []struct {
		costs, want string // want: the "costs" field written ("" = none)
	}{
		{"", CostsCurrent},
		{CostsGoMLX02816, CostsGoMLX02816},
		{CostsGoMLX0282, ""},
	} {
		p := Presets()["cpu-quick"]
		p.Costs = c.costs
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		if got, _ := raw["costs"].(string); got != c.want {
			t.Errorf("costs %q written as %q, want %q", c.costs, got, c.want)
		}
		var q Preset
		if err := json.Unmarshal(b, &q); err != nil {
			t.Fatal(err)
		}
		if want := p.resolved().Costs; q.Costs != want {
			t.Errorf("costs %q read back as %q, want %q", c.costs, q.Costs, want)
		}
		if d := p.Diff(q); len(d) > 0 {
			t.Errorf("read back differently: %v", d)
		}
	}
	wall := Presets()["paper"]
	b, err := json.Marshal(wall)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "costs") {
		t.Errorf("a wall-clock preset names a cost model: %s", b)
	}
	var q Preset
	if err := json.Unmarshal([]byte(`{"name":"x","nonsense":1}`), &q); err == nil {
		t.Error("a preset with an unknown field was read")
	}
}

// The committed cpu-study folder was made with the first cost model and
// names none. It is still read as that model's, summarized to the same
// table, and resumed — every run replayed from its journal on the compute
// clock, training nothing — to the same results; the current model is
// refused for it, naming the difference.
func TestOldFolderKeepsItsCosts(t *testing.T) {
	src := filepath.Join("..", "docs", "results", "cpu-study-cifar10")
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `"costs"`) {
		t.Fatal("the committed folder names a cost model; this test wants one that does not")
	}
	var info runInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatal(err)
	}
	if info.Preset.Costs != CostsGoMLX0282 {
		t.Fatalf("the folder reads as cost model %q, want %q", info.Preset.Costs, CostsGoMLX0282)
	}
	committed, err := os.ReadFile(filepath.Join(src, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(committed), s.Table.Markdown()) {
		t.Errorf("summarized again, the table differs from the committed one:\n%s", s.Table.Markdown())
	}

	// The current model, given for this folder: refused before anything runs.
	p := info.Preset
	p.Costs = ""
	if CostsCurrent != CostsGoMLX0282 {
		_, err := Lock(dir, p)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "costs: "+CostsGoMLX0282+" → "+CostsCurrent) {
			t.Errorf("resuming under the current costs: %v, want ErrConfig naming the costs", err)
		}
	}

	// Its own model: every run replays exactly, training nothing.
	before := map[string][]byte{}
	csvs, _ := filepath.Glob(filepath.Join(dir, "runs", "*", "results.csv"))
	for _, f := range csvs {
		before[f], _ = os.ReadFile(f)
	}
	if len(before) != len(info.Preset.Algorithms)*len(info.Preset.Arms)*info.Preset.Seeds {
		t.Fatalf("%d runs in the committed folder", len(before))
	}
	o := Options{Preset: info.Preset, Dir: dir, Data: toyDataset(info.Preset.TrainImages), Backend: backendtest.Go(t), BackendSpec: "go",
		Trainables: func(context.Context, hpo.TrialID, hpo.Config) (hpo.Trainable, error) {
			return nil, errors.New("trained a trial of a finished run")
		}}
	s2, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Table.Markdown() != s.Table.Markdown() {
		t.Errorf("resumed, the table differs:\n%s", s2.Table.Markdown())
	}
	for f, b := range before {
		if after, err := os.ReadFile(f); err != nil || string(after) != string(b) {
			t.Errorf("%s differs after the resume (%v)", f, err)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "config.json")); string(after) != string(raw) {
		t.Errorf("config.json changed:\n%s", after)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// The recorded fields: a preset read from JSON without Async Hyperband's
// weights or the genetic mutation rate ran the legacy behaviour (Hyperband's
// bracket sizes, each arm's own rate); a new preset writes today's. Resume
// takes a folder's values, saying which are not today's, but for the
// fields the caller chose.
func TestRecordedFields(t *testing.T) {
	// cpu-study as a folder made before these fields existed records it.
	raw, err := json.Marshal(Presets()["cpu-study"])
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	delete(fields, "costs")
	delete(fields, "ahb_weights")
	delete(fields, "genetic_mutation")
	if raw, err = json.Marshal(fields); err != nil {
		t.Fatal(err)
	}
	var old Preset
	if err := json.Unmarshal(raw, &old); err != nil {
		t.Fatal(err)
	}
	if old.Costs != CostsGoMLX0282 || old.AHBWeights != AHBWeightsHyperband || old.GeneticMutation != GeneticMutationPerArm {
		t.Fatalf("an old preset reads as %q, %q, %q", old.Costs, old.AHBWeights, old.GeneticMutation)
	}
	if old.ahbWeights() != asha.HyperbandWeights || old.sharedMutation() {
		t.Error("the old preset's behaviours are not the legacy ones")
	}
	b, err := json.Marshal(Presets()["cpu-study"])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"costs":"` + CostsCurrent + `"`, `"ahb_weights":"ray"`, `"genetic_mutation":"shared"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("a new preset's JSON lacks %s: %s", want, b)
		}
	}
	p := Presets()["cpu-study"]
	got, notes := p.Resume(old)
	if got.Costs != CostsGoMLX0282 || got.AHBWeights != AHBWeightsHyperband || got.GeneticMutation != GeneticMutationPerArm || len(notes) != 3 {
		t.Errorf("resumed as %q, %q, %q; notes %q", got.Costs, got.AHBWeights, got.GeneticMutation, notes)
	}
	if d := got.Diff(old); len(d) > 0 {
		t.Errorf("the resumed preset differs from the folder's: %v", d)
	}
	got, notes = p.Resume(old, "costs")
	if got.Costs != "" || len(notes) != 2 {
		t.Errorf("with -costs given: costs %q, notes %q", got.Costs, notes)
	}
	for _, bad := range []func(*Preset){func(p *Preset) { p.AHBWeights = "even" }, func(p *Preset) { p.GeneticMutation = "half" }} {
		q := Presets()["cpu-study"]
		bad(&q)
		if err := q.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v validates: %v", q, err)
		}
	}
}
