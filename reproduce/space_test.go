package reproduce

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hpo"
)

// The learning-rate prior of Table 2's [1e-5, 0.2]: log-uniform puts
// ln(1e-3/1e-5)/ln(0.2/1e-5) = 46.5% of the draws below 1e-3, uniform
// (1e-3 − 1e-5)/(0.2 − 1e-5) = 0.495%.
func TestLRPrior(t *testing.T) {
	for _, c := range []struct {
		prior    string
		want     float64
		log      bool
		scalings string
	}{
		{"", 0.4650, true, "SGD learning rate log-uniform on [1e-5, 0.2]"},
		{LRPriorLog, 0.4650, true, "SGD learning rate log-uniform on [1e-5, 0.2]"},
		{LRPriorUniform, 0.00495, false, "SGD learning rate uniform on [1e-5, 0.2]"},
	} {
		p := Presets()["cpu-quick"]
		p.LRPrior = c.prior
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		space, err := p.Space(cnn.ArmSGD)
		if err != nil {
			t.Fatal(err)
		}
		var d hpo.Float
		for _, prm := range space {
			if prm.Name == cnn.ParamLearningRate {
				d = prm.Domain.(hpo.Float)
			}
		}
		if d.Low != 1e-5 || d.High != 0.2 || d.Log != c.log {
			t.Errorf("prior %q: learning-rate domain %+v", c.prior, d)
		}
		const n = 200000
		r := rand.New(rand.NewPCG(1, 2))
		below := 0
		for range n {
			if space.Sample(r)[cnn.ParamLearningRate].(float64) < 1e-3 {
				below++
			}
		}
		// Binomial standard error: ≤ 0.0012 (log), 0.00016 (uniform).
		if got := float64(below) / n; got < c.want-0.005 || got > c.want+0.005 || (c.want < 0.01 && (got < 0.004 || got > 0.006)) {
			t.Errorf("prior %q: %.4f of the learning rates below 1e-3, want ≈ %.4f", c.prior, got, c.want)
		}
		if s := scalings(p); !strings.Contains(s, c.scalings) {
			t.Errorf("prior %q: scalings %q lack %q", c.prior, s, c.scalings)
		}
		// A configuration drawn under either prior is a valid trial.
		if _, err := cnn.FromConfig(p.Case(), cnn.ArmSGD, space.Sample(r)); err != nil {
			t.Errorf("prior %q: %v", c.prior, err)
		}
	}
	p := Presets()["cpu-quick"]
	p.LRPrior = "normal"
	if err := p.Validate(); err == nil {
		t.Error("learning-rate prior \"normal\" accepted")
	}
	q := p
	q.LRPrior = LRPriorUniform
	if d := strings.Join(Presets()["cpu-quick"].Diff(q), ";"); !strings.Contains(d, "lr_prior") {
		t.Errorf("Diff does not name lr_prior: %q", d)
	}
}

// mustArm parses an arm that the test knows to be valid.
func mustArm(t testing.TB, name string) cnn.Arm {
	t.Helper()
	arm, err := cnn.ParseArm(name)
	if err != nil {
		t.Fatal(err)
	}
	return arm
}
