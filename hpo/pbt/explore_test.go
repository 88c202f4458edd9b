package pbt_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/pbt"
)

func TestPerturbValue(t *testing.T) {
	never := pbt.Perturber{ResampleProb: -1}
	always := pbt.Perturber{ResampleProb: 1}
	tests := []struct {
		name string
		p    pbt.Perturber
		d    hpo.Domain
		v    any
		ok   func(any) bool
	}{
		{"linear ×0.8 or ×1.2", never, hpo.Float{Low: 0, High: 10}, 5.0,
			func(x any) bool { return near(x.(float64), 4) || near(x.(float64), 6) }},
		{"linear clamped to high", never, hpo.Float{Low: 0, High: 5.5}, 5.0,
			func(x any) bool { return near(x.(float64), 4) || near(x.(float64), 5.5) }},
		{"linear zero resampled", never, hpo.Float{Low: 0, High: 1}, 0.0,
			func(x any) bool { f := x.(float64); return f >= 0 && f <= 1 }},
		{"log symmetric in log space", never, hpo.Float{Low: 1e-4, High: 1, Log: true}, 0.01,
			func(x any) bool {
				r := math.Log(x.(float64) / 0.01)
				return near(math.Abs(r), 0.5*math.Log(1.5))
			}},
		{"log clamped to low", never, hpo.Float{Low: 0.009, High: 1, Log: true}, 0.01,
			func(x any) bool { f := x.(float64); return near(f, 0.009) || near(f, 0.01*math.Sqrt(1.5)) }},
		{"int one step", never, hpo.Int{Low: 1, High: 8}, 4,
			func(x any) bool { return x.(int) == 3 || x.(int) == 5 }},
		{"int reflected at low", never, hpo.Int{Low: 1, High: 8}, 1,
			func(x any) bool { return x.(int) == 2 }},
		{"ordered choice neighbour", never, hpo.Choice{Values: []any{32, 64, 128}, Ordered: true}, 64,
			func(x any) bool { return x == 32 || x == 128 }},
		{"ordered choice reflected", never, hpo.Choice{Values: []any{32, 64, 128}, Ordered: true}, 128,
			func(x any) bool { return x == 64 }},
		{"unordered choice kept", never, hpo.Choice{Values: []any{"a", "b", "c"}}, "b",
			func(x any) bool { return x == "b" }},
		{"resampled in domain", always, hpo.Float{Low: 2, High: 3}, 2.5,
			func(x any) bool { f := x.(float64); return f >= 2 && f <= 3 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			for range 200 {
				x, err := tt.p.PerturbValue(tt.d, tt.v, r)
				if err != nil {
					t.Fatal(err)
				}
				if !tt.ok(x) {
					t.Fatalf("perturbed %v to %v (%T)", tt.v, x, x)
				}
				if _, err := tt.d.Normalize(x); err != nil {
					t.Fatalf("%v left the domain: %v", x, err)
				}
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// With the default probability a quarter of the values are resampled.
func TestResampleRate(t *testing.T) {
	p := pbt.Perturber{}
	d := hpo.Float{Low: 0, High: 100}
	r := rand.New(rand.NewPCG(3, 4))
	const n = 20000
	resampled := 0
	for range n {
		x, _ := p.PerturbValue(d, 50.0, r)
		if f := x.(float64); !near(f, 40) && !near(f, 60) {
			resampled++
		}
	}
	// Binomial(20000, 0.25): sd ≈ 61; allow 5 sd.
	if math.Abs(float64(resampled)-n*0.25) > 5*math.Sqrt(n*0.25*0.75) {
		t.Fatalf("%d of %d resampled", resampled, n)
	}
}

func TestPerturbDeterministicAndMutable(t *testing.T) {
	space := hpo.Space{
		{Name: "lr", Domain: hpo.Float{Low: 1e-4, High: 1, Log: true}},
		{Name: "width", Domain: hpo.Choice{Values: []any{16, 32, 64}, Ordered: true}},
	}
	p := pbt.Perturber{Space: space, Mutable: []string{"lr"}}
	cfg := hpo.Config{"lr": 0.01, "width": 32}
	a, err := p.Perturb(cfg, rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.Perturb(cfg, rand.New(rand.NewPCG(5, 6)))
	if a.Float("lr") != b.Float("lr") {
		t.Fatalf("not deterministic: %v %v", a, b)
	}
	if a.Float("lr") == 0.01 {
		t.Fatalf("the mutable parameter did not move: %v", a)
	}
	if a.Int("width") != 32 || cfg.Float("lr") != 0.01 {
		t.Fatalf("immutable parameter changed or input modified: %v %v", a, cfg)
	}
	if _, err := p.Perturb(hpo.Config{"width": 32}, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Fatal("missing parameter accepted")
	}
}
