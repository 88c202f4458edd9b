package plots

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// Student's sleep data (Cushny & Peebles 1905, as analysed by "Student"
// 1908; R's data set `sleep`): extra hours of sleep of 10 patients under
// two drugs.
var (
	sleepDrug1 = []float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0}
	sleepDrug2 = []float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4}
	// sleepDiff is drug 2 − drug 1, written out so that the two 1.3 tie
	// exactly (1.1 − (−0.2) is 1.3000000000000003 in float64).
	sleepDiff = []float64{1.2, 2.4, 1.3, 1.3, 0, 1.0, 1.8, 0.8, 4.6, 1.4}
)

// Paired t-test. Expected values: R's t.test(extra ~ group, data = sleep,
// paired = TRUE) prints t = −4.0621, df = 9, p-value = 0.002833, 95% CI of
// the mean difference 0.7001142 … 2.4598858 (signs for drug 2 − drug 1);
// full precision from scipy 1.10.1, scipy.stats.ttest_rel(drug2, drug1):
// statistic 4.062127683382037, pvalue 0.00283289019738427, CI (0.7001142367452712,
// 2.459885763254729).
func TestPairedTTestSleep(t *testing.T) {
	r, err := PairedTTest(sleepDrug1, sleepDrug2)
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 10 || !near(r.Statistic, 4.062127683382037, 1e-9) || !near(r.P, 0.00283289019738427, 1e-9) {
		t.Errorf("paired t-test: %+v, want t 4.062127683382037, p 0.00283289019738427, N 10", r)
	}
	s, err := Summarize(sleepDiff, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if !near(s.Lo(), 0.7001142367452712, 1e-9) || !near(s.Hi(), 2.459885763254729, 1e-9) {
		t.Errorf("interval [%v, %v]", s.Lo(), s.Hi())
	}
	if r := TTest([]float64{1}); !math.IsNaN(r.P) {
		t.Errorf("one value: %+v", r)
	}
	if r := TTest([]float64{0, 0, 0}); !math.IsNaN(r.P) {
		t.Errorf("all zero: %+v", r)
	}
	if r := TTest([]float64{2, 2, math.NaN()}); r.P != 0 || !math.IsInf(r.Statistic, 1) || r.N != 2 {
		t.Errorf("constant: %+v", r)
	}
	if _, err := PairedTTest([]float64{1}, []float64{1, 2}); err == nil {
		t.Error("unequal lengths accepted")
	}
}

// Wilcoxon signed-rank test, exact.
//
// Hollander & Wolfe, Nonparametric Statistical Methods (1973), p. 29
// (the example of R's ?wilcox.test): Hamilton depression scale before (x)
// and after (y) a tranquilizer for 9 patients, no ties or zeros. R's
// wilcox.test(x, y, paired = TRUE, alternative = "greater") gives V = 40,
// p = 0.01953; two-sided, scipy 1.10.1 scipy.stats.wilcoxon(x, y,
// method="exact") gives p = 0.0390625 (= 20/512).
//
// The sleep differences have a zero (dropped) and a tie (1.3, 1.3: midrank
// 3.5): W+ = 45, every non-zero difference positive, so only the all-plus
// sign pattern reaches it: P(W ≥ 45) = 1/2⁹ and p = 2/512 = 0.00390625
// (checked by enumerating the 512 sign patterns in Python over
// scipy.stats.rankdata's midranks).
func TestWilcoxonExact(t *testing.T) {
	x := []float64{1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30}
	y := []float64{0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29}
	r, err := PairedWilcoxon(y, x) // x − y
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 9 || r.Statistic != 40 || !r.Exact || !near(r.P, 0.0390625, 1e-12) {
		t.Errorf("Hollander & Wolfe: %+v, want W+ 40, exact p 0.0390625", r)
	}
	r = Wilcoxon(sleepDiff)
	if r.N != 9 || r.Statistic != 45 || !r.Exact || !near(r.P, 0.00390625, 1e-12) {
		t.Errorf("sleep: %+v, want N 9 (zero dropped), W+ 45, exact p 0.00390625", r)
	}
	// Symmetry and the smallest p of five seeds.
	if r := Wilcoxon([]float64{-1, -2, -3, -4, -5}); r.Statistic != 0 || !near(r.P, 0.0625, 1e-12) {
		t.Errorf("five negative: %+v, want p 2/32", r)
	}
	if r := Wilcoxon([]float64{1, -2, 3, -4, 5}); r.Statistic != 9 || !near(r.P, 0.8125, 1e-12) {
		// W+ = 9 of 15: P(W ≥ 9) = P(W ≤ 6) = 13/32, p = 26/32 (scipy
		// 1.10.1: wilcoxon([1, -2, 3, -4, 5], method="exact") → 0.8125).
		t.Errorf("mixed: %+v", r)
	}
	if r := Wilcoxon([]float64{0, 0, math.NaN()}); r.N != 0 || !math.IsNaN(r.P) {
		t.Errorf("all zero: %+v", r)
	}
}

// Wilcoxon signed-rank test, normal approximation (N > 25, and the formula
// itself on the sleep data). Expected values from scipy 1.10.1:
// scipy.stats.wilcoxon(d, zero_method="wilcox", correction=False,
// method="approx") gives p = 0.5857115693468691 (W+ = 259, min(W+, W−) =
// 206) for the 30 values z_i = ((7i mod 13) − 5.5)·(1 + i/10), and p =
// 0.007632441648205508 for the sleep differences (tie-corrected variance).
func TestWilcoxonNormal(t *testing.T) {
	z := make([]float64, 30)
	for i := range z {
		z[i] = (float64((i*7)%13) - 5.5) * (1 + float64(i)/10)
	}
	r := Wilcoxon(z)
	if r.N != 30 || r.Exact || r.Statistic != 465-206 || !near(r.P, 0.5857115693468691, 1e-9) {
		t.Errorf("n = 30: %+v, want W+ 259, approximate p 0.5857115693468691", r)
	}
	ranks2, w2, _ := signedRanks(sleepDiff)
	if p := wilcoxonNormal(ranks2, w2); !near(p, 0.007632441648205508, 1e-9) {
		t.Errorf("sleep, normal approximation: p %v, want 0.007632441648205508", p)
	}
	// At N = 25 the exact p is close to the approximation.
	if ex, ap := wilcoxonExact(ranks2, w2), wilcoxonNormal(ranks2, w2); ex > ap {
		t.Logf("exact %v, normal %v", ex, ap)
	}
}

// Clopper–Pearson intervals. Expected values from scipy 1.10.1,
// scipy.stats.binomtest(k, n).proportion_ci(0.95, method="exact"): 53 of 60
// (the paper's "88.3% of cases": 6 algorithms × 5 checkpoints × 2 data
// sets) → [0.7742838468543075, 0.9517851581286857]; 25 of 30 →
// [0.6527883011658562, 0.9435783035316984]; 0 of 10 → [0,
// 0.30849710781876294]; 10 of 10 → [0.6915028921812371, 1].
func TestClopperPearson(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{
		{53, 60, 0.7742838468543075, 0.9517851581286857},
		{25, 30, 0.6527883011658562, 0.9435783035316984},
		{0, 10, 0, 0.30849710781876294},
		{10, 10, 0.6915028921812371, 1},
	} {
		lo, hi, err := ClopperPearson(c.k, c.n, 0)
		if err != nil || !near(lo, c.lo, 1e-9) || !near(hi, c.hi, 1e-9) {
			t.Errorf("%d/%d: [%v, %v] %v, want [%v, %v]", c.k, c.n, lo, hi, err, c.lo, c.hi)
		}
	}
	for _, c := range [][2]int{{1, 0}, {-1, 3}, {4, 3}} {
		if _, _, err := ClopperPearson(c[0], c[1], 0); err == nil {
			t.Errorf("%d/%d accepted", c[0], c[1])
		}
	}
}

// ComparePaired and Pairs: seed k of the two arms is a pair; a seed
// missing in one arm, or without a value yet, drops out.
func TestComparePaired(t *testing.T) {
	e := &Experiment{Budget: 100}
	sgd := []float64{0.50, 0.60, 0.40, 0.55, 0.45}
	hgd := []float64{0.60, 0.66, 0.50, 0.55, 0.54}
	for k := range sgd {
		e.Runs = append(e.Runs,
			Run{Algorithm: "ASHA", Arm: SGD, Seed: k, Curve: Curve{{T: 10, V: sgd[k]}}},
			Run{Algorithm: "ASHA", Arm: HGD, Seed: k, Curve: Curve{{T: float64(10 + 20*k), V: hgd[k]}}})
	}
	e.Runs = append(e.Runs, Run{Algorithm: "ASHA", Arm: SGD, Seed: 9, Curve: Curve{{T: 1, V: 0.3}}})
	b, tr := e.Pairs("ASHA", SGD, HGD, 100)
	if len(b) != 6 || b[5] != 0.3 || !math.IsNaN(tr[5]) || tr[1] != 0.66 {
		t.Fatalf("pairs %v %v", b, tr)
	}
	g, err := ComparePaired(b, tr, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Differences 0.10, 0.06, 0.10, 0, 0.09: mean 0.07, s = √(0.0068/4).
	sd := math.Sqrt((0.03*0.03 + 0.01*0.01 + 0.03*0.03 + 0.07*0.07 + 0.02*0.02) / 4)
	if g.Diff.N != 5 || g.Diff.Total != 6 || !near(g.Diff.Mean, 0.07, 1e-12) || !near(g.SD, sd, 1e-12) ||
		!near(g.T.Statistic, 0.07/(sd/math.Sqrt(5)), 1e-9) {
		t.Errorf("paired difference %+v", g)
	}
	// The detectable difference: (t_.975,4 + t_.8,4)·s/√5.
	if want := (TQuantile(0.975, 4) + TQuantile(0.8, 4)) * sd / math.Sqrt(5); !near(g.Detectable, want, 1e-12) {
		t.Errorf("detectable %v, want %v", g.Detectable, want)
	}
	// Log ratios log(0.6/0.5), log(0.66/0.6), log(0.5/0.4), 0, log(0.54/0.45).
	logs := []float64{math.Log(1.2), math.Log(1.1), math.Log(1.25), 0, math.Log(1.2)}
	mean := 0.0
	for _, l := range logs {
		mean += l / 5
	}
	if geo, _, _ := g.GeoGain(); g.LogRatio.N != 5 || !near(geo, math.Exp(mean)-1, 1e-12) {
		t.Errorf("geometric-mean gain %v, log ratio %+v", geo, g.LogRatio)
	}
	// Wilcoxon drops the zero difference: 4 positive, p = 2/16.
	if g.Wilcoxon.N != 4 || !near(g.Wilcoxon.P, 0.125, 1e-12) {
		t.Errorf("Wilcoxon %+v", g.Wilcoxon)
	}
	if !math.IsNaN(g.Holm) {
		t.Errorf("Holm outside a table: %v", g.Holm)
	}
	b, tr = e.Pairs("ASHA", SGD, HGD, 40) // HGD seeds 2–4 have no value yet
	if g, _ := ComparePaired(b, tr, 0); g.Diff.N != 2 {
		t.Errorf("at 40 s: %d pairs", g.Diff.N)
	}
}

func TestCountLeads(t *testing.T) {
	e := synthetic(3)
	l, err := CountLeads(e, SGD, HGD, Checkpoints(3000, 6), 0)
	if err != nil {
		t.Fatal(err)
	}
	if l.Cells != 30 || l.Leads < 20 || !(l.Lo <= l.Share && l.Share <= l.Hi) {
		t.Errorf("synthetic leads %+v", l)
	}
	lo, hi, _ := ClopperPearson(l.Leads, l.Cells, 0)
	if l.Lo != lo || l.Hi != hi || l.Share != float64(l.Leads)/30 {
		t.Errorf("share %+v", l)
	}
	// Before anything started: no cell.
	if l, _ := CountLeads(e, SGD, HGD, []float64{1}, 0); l.Cells != 0 || !math.IsNaN(l.Share) {
		t.Errorf("no cells: %+v", l)
	}
}

// The table shows the chosen test, marks p < 0.05, counts the leads, and
// its LaTeX form has the paired columns.
func TestTablePairedColumns(t *testing.T) {
	e := synthetic(5)
	tab, err := NewTable(e, TableConfig{Test: TestWilcoxon})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := tab.Row("ASHA")
	b, tr := e.Pairs("ASHA", SGD, HGD, 500)
	want, _ := ComparePaired(b, tr, 0)
	if r.EarlyPaired.Diff != want.Diff || r.EarlyPaired.Wilcoxon != want.Wilcoxon || r.EarlyPaired.Diff.N != 5 {
		t.Errorf("ASHA early paired %+v, want %+v", r.EarlyPaired, want)
	}
	md := tab.Markdown()
	for _, s := range []string{"p Holm (Wilcoxon)", "p (paired t)", "Wilcoxon signed-rank test", "exact for ≤ 25 pairs", "Clopper–Pearson", "88.3%",
		"Δ points", "geometric-mean gain", "detectable Δ points (80% power)", "Holm's correction over the 12 comparisons"} {
		if !strings.Contains(md, s) {
			t.Errorf("Markdown lacks %q:\n%s", s, md)
		}
	}
	if tab.Leads.Cells != 30 {
		t.Errorf("leads %+v", tab.Leads)
	}
	tt, err := NewTable(e, TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	md = tt.Markdown()
	if !strings.Contains(md, "p Holm (paired t)") || !strings.Contains(md, "*") {
		t.Errorf("t-test table:\n%s", md)
	}
	tex := tt.LaTeX()
	for _, want := range []string{`\begin{tabular}{lrrrrrr}`, `\begin{tabular}{lrrrrrrrr}`, `\caption{Paired comparison, HGD - SGD, seed by seed}`, `ASHA & 500\,s & 5 & `} {
		if !strings.Contains(tex, want) {
			t.Errorf("LaTeX lacks %q:\n%s", want, tex)
		}
	}
	if strings.Contains(tex, "−") {
		t.Errorf("LaTeX has a raw minus:\n%s", tex)
	}
	if _, err := NewTable(e, TableConfig{Test: "sign"}); err == nil {
		t.Error("test \"sign\" accepted")
	}
}

// Figures 4/5 mark the checkpoints where the paired test rejects "no
// difference": the marks agree with ComparePaired and are drawn.
func TestBarsSignificanceMarks(t *testing.T) {
	// Eight seeds: with five, the exact Wilcoxon test's smallest two-sided p
	// is 2/32 > 0.05, so it could mark nothing.
	e := synthetic(8)
	times := []float64{10, 500, 1500}
	for _, test := range []string{TestT, TestWilcoxon} {
		f, err := Bars(e, BarsConfig{Times: times, Test: test})
		if err != nil {
			t.Fatal(err)
		}
		starred := 0
		for _, p := range f.Panels {
			if len(p.Paired) != len(times) {
				t.Fatalf("%s: %d paired cells, want %d", p.Algorithm, len(p.Paired), len(times))
			}
			for j, at := range times {
				b, tr := e.Pairs(p.Algorithm, SGD, HGD, at)
				want, _ := ComparePaired(b, tr, 0)
				r := want.Of(test)
				if (test == TestWilcoxon) != (r.Name == want.Wilcoxon.Name) {
					t.Fatalf("Of(%q) = %+v", test, r)
				}
				mark := p.Marks(j, test, f.Level)
				switch {
				case r.P < 0.01 && mark != "**", r.P >= 0.01 && r.P < 0.05 && mark != "*", !(r.P < 0.05) && mark != "":
					t.Errorf("%s %s at %v s: p %v, mark %q", test, p.Algorithm, at, r.P, mark)
				}
				if mark != "" {
					starred++
				}
			}
		}
		// Before any seed started (10 s) nothing is marked; at 500 s HGD's
		// faster rise is significant somewhere.
		if starred == 0 {
			t.Errorf("%s: no checkpoint marked", test)
		}
		rec, _, _ := record(f, f.Size)
		if s := drawnStrings(rec); starred > 0 && !s["*"] && !s["**"] {
			t.Errorf("%s: marks not drawn", test)
		}
	}
	one := &Experiment{Name: "one arm", Budget: 3000}
	for _, r := range e.Runs {
		if r.Arm == HGD {
			one.Runs = append(one.Runs, r)
		}
	}
	f, err := Bars(one, BarsConfig{})
	if err != nil || f.Panels[0].Paired != nil || f.Panels[0].Marks(0, TestT, f.Level) != "" {
		t.Errorf("one arm: %v, %+v", err, f.Panels[0].Paired)
	}
	if _, err := Bars(e, BarsConfig{Test: "sign"}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("test \"sign\": %v", err)
	}
}

// Figures 2/3 title each panel with the paired gain at the end and its p.
func TestCurvesHeadingPaired(t *testing.T) {
	f, err := Curves(fixture(), CurvesConfig{})
	if err != nil {
		t.Fatal(err)
	}
	// ASHA at 100 s: SGD .40 .35 .50, HGD .60 .70 .35: differences +.20,
	// +.35, −.15; three pairs are too few for a p-value in the title.
	p := f.Panels[0]
	b, tr := fixture().Pairs("ASHA", SGD, HGD, 100)
	want, _ := ComparePaired(b, tr, 0)
	if p.Final == nil || !near(p.Final.Diff.Mean, 0.4/3, 1e-12) || p.Final.T != want.T {
		t.Fatalf("ASHA final %+v, want %+v", p.Final, want)
	}
	if h := p.Heading(); h != "ASHA: HGD +13.3 pts (3 pairs)" {
		t.Errorf("heading %q", h)
	}
	five := *p.Final
	five.Diff.N, five.T.P = 5, 0.01
	if h := (CurvePanel{Algorithm: "ASHA", Final: &five}).Heading(); h != "ASHA: HGD +13.3 pts, p 0.01*" {
		t.Errorf("heading with 5 pairs %q", h)
	}
	if h := (CurvePanel{Algorithm: "PB2"}).Heading(); h != "PB2" {
		t.Errorf("heading without pairs %q", h)
	}
}
