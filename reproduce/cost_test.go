package reproduce

import (
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hpo"
)

// The cost model charges steps (epochs × training images / batch) at the
// calibrated cost of the network's FLOPs, one evaluation per result, and
// HGD's measured overhead to the HGD arm only; it is a pure function.
func TestTrialCost(t *testing.T) {
	p := Presets()["cpu-quick"]
	cfg := hpo.Config{cnn.ParamConv1: 16, cnn.ParamConv2: 16, cnn.ParamConv3: 16, cnn.ParamFC1: 256, cnn.ParamFC2: 64,
		cnn.ParamBatchSize: 32, cnn.ParamLearningRate: 0.01, cnn.ParamMomentum: 0.9}
	sgd := trialCost(p, cnn.ArmSGD, 1400, 600)
	net := cnn.Config{Case: cnn.Case1, Conv: [3]int{16, 16, 16}, FC: [2]int{256, 64}}
	step := CostStepOverhead + CostStepPerFLOP*3*net.FLOPs()*32
	want := 3*(1400/32)*step + CostEvalPerFLOP*net.FLOPs()*600
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
	hgdCost := trialCost(p, cnn.ArmHGD, 1400, 600)(hcfg, 2, 5).Seconds()
	wantH := 3*(1400/32)*step*CostHGDFactor + CostEvalPerFLOP*net.FLOPs()*600
	if abs(hgdCost-wantH) > 1e-9 {
		t.Errorf("HGD cost %v s, want %v s", hgdCost, wantH)
	}
	if stepCost(net, 32, hgd.HGD) <= stepCost(net, 32, hgd.Momentum) {
		t.Error("HGD's step is not charged its overhead")
	}
	if c := sgd(hpo.Config{"nonsense": 1}, 0, 1); c != time.Duration(0) {
		t.Errorf("an invalid configuration costs %v", c)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
