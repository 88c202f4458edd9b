package plots

import (
	"math"
	"strings"
	"testing"
)

// Holm's step-down adjustment: sorted p(i) times (m − i + 1), made
// monotone, capped at 1; NaN entries are no tests.
func TestHolm(t *testing.T) {
	got := Holm([]float64{0.01, 0.04, math.NaN(), 0.03, 0.20})
	// m = 4: 0.01·4 = .04; .03·3 = .09; .04·2 = .08 → .09 (monotone); .20·1 = .20.
	want := []float64{0.04, 0.09, math.NaN(), 0.09, 0.20}
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(want[i]) && !near(got[i], want[i], 1e-12)) {
			t.Errorf("Holm[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if got := Holm([]float64{0.5, 0.6}); got[0] != 1 || got[1] != 1 {
		t.Errorf("capped at 1: %v", got)
	}
}

// Ten pairs need about one standard deviation of the differences to be
// detected with 80% power at 5% (two-sided); more pairs, less.
func TestDetectableDifference(t *testing.T) {
	if d := DetectableDifference(1, 10, 0.95, 0.8); !near(d, 0.9946, 1e-3) {
		t.Errorf("10 pairs: %v SD, want about 0.995", d)
	}
	if a, b := DetectableDifference(1, 10, 0.95, 0.8), DetectableDifference(1, 40, 0.95, 0.8); b >= a/1.9 {
		t.Errorf("40 pairs detect %v, 10 pairs %v", b, a)
	}
	if !math.IsNaN(DetectableDifference(1, 1, 0.95, 0.8)) {
		t.Error("one pair has a detectable difference")
	}
}

// The relative-gain statistic this replaces was driven by seeds whose
// baseline is near chance: a baseline of 0.10 against 0.40 is +300%. The
// difference in points and the geometric-mean gain are not.
func TestPairedNotDrivenByLowBaselines(t *testing.T) {
	sgd := []float64{0.10, 0.40, 0.42, 0.38, 0.41}
	hgd := []float64{0.40, 0.38, 0.40, 0.37, 0.40}
	g, err := ComparePaired(sgd, hgd, 0)
	if err != nil {
		t.Fatal(err)
	}
	meanRel := 0.0
	for k := range sgd {
		meanRel += (hgd[k] - sgd[k]) / sgd[k] / 5
	}
	geo, _, _ := g.GeoGain()
	if !(meanRel > 0.5) || !near(g.Diff.Mean, 0.048, 1e-12) || !(geo < meanRel/2) {
		t.Errorf("mean relative gain %v; difference %v, geometric-mean gain %v", meanRel, g.Diff.Mean, geo)
	}
}

// Algorithms whose per-seed values coincide at a checkpoint (each seed's
// first trial, common to all of them) are one comparison, and the summary
// says so; the trials each arm reported by then are counted.
func TestLeadsDistinct(t *testing.T) {
	e := &Experiment{Name: "CIFAR-10", Budget: 60}
	for _, alg := range []string{"ASHA", "HyperBand", "PBT"} {
		for s := range 3 {
			first := Curve{{T: 5, V: 0.1 + 0.01*float64(s)}}
			sgd := append(Curve{}, first...)
			hgd := Curve{{T: 5, V: 0.12 + 0.01*float64(s)}}
			if alg == "PBT" { // PBT moves on by 30 s
				sgd = append(sgd, Point{T: 30, V: 0.3})
				hgd = append(hgd, Point{T: 30, V: 0.2})
			}
			e.Runs = append(e.Runs,
				Run{Algorithm: alg, Arm: SGD, Seed: s, Curve: sgd, FirstResults: []float64{5, 25}},
				Run{Algorithm: alg, Arm: HGD, Seed: s, Curve: hgd, FirstResults: []float64{5, 25, 35}})
		}
	}
	l, err := CountLeads(e, SGD, HGD, []float64{10, 40}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// At 10 s: 3 cells, 1 comparison (HGD leads); at 40 s: ASHA and
	// HyperBand coincide (HGD leads), PBT (SGD leads): 2 comparisons.
	if l.Cells != 6 || l.Leads != 5 || l.Distinct != 3 || l.DistinctLeads != 2 {
		t.Fatalf("leads %+v", l)
	}
	if len(l.Coincident) != 2 || len(l.Coincident[0]) != 1 || len(l.Coincident[0][0]) != 3 || strings.Join(l.Coincident[1][0], ",") != "ASHA,HyperBand" {
		t.Errorf("coincident %v", l.Coincident)
	}
	if r := l.Reported[HGD]; len(r) != 2 || r[0] != 1 || r[1] != 3 {
		t.Errorf("HGD trials reported %v, want [1 3]", r)
	}
	tab, err := NewTable(e, TableConfig{Checkpoints: []float64{10, 40}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"5 of 6 cells", "2 of 3 distinct comparisons (CIFAR-10 only)", "At 10 s, ASHA, HyperBand, PBT hold identical per-seed values",
		"Trials reported per run (SGD / HGD): 10 s: 1.0 / 1.0; 40 s: 2.0 / 3.0", "over CIFAR-10 and CIFAR-100 together"} {
		if s := tab.LeadsSummary(); !strings.Contains(s, want) {
			t.Errorf("leads summary lacks %q:\n%s", want, s)
		}
	}
}

// Bars mark significance only with MinPairs pairs, and their error bars
// stay within [0, 1] (the axis never grows past 1 for an interval).
func TestBarsFewPairsAndClipping(t *testing.T) {
	e := &Experiment{Budget: 60}
	for s, v := range []float64{0.1, 0.9} { // two seeds, wild spread
		e.Runs = append(e.Runs,
			Run{Algorithm: "ASHA", Arm: SGD, Seed: s, Curve: Curve{{T: 1, V: v / 2}}},
			Run{Algorithm: "ASHA", Arm: HGD, Seed: s, Curve: Curve{{T: 1, V: v/2 + 0.3}}})
	}
	f, err := Bars(e, BarsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	p := f.Panels[0]
	if p.Paired[0].T.P >= 0.05 {
		t.Fatalf("the fixture's t-test p %v should be below 0.05 (constant difference)", p.Paired[0].T.P)
	}
	if m := p.Marks(0, TestT, f.Level); m != "" {
		t.Errorf("two pairs marked %q", m)
	}
	if f.YMax > 1.12 {
		t.Errorf("y axis to %v: error bars beyond 1 stretch it", f.YMax)
	}
}
