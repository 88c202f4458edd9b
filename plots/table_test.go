package plots

import (
	"math"
	"strings"
	"testing"
)

// trunc2 truncates toward zero to two decimals.
func trunc2(x float64) float64 { return math.Trunc(x*100) / 100 }

func TestPaperHeadlines(t *testing.T) {
	// The paper's headline gains are the mean over algorithms of the
	// per-algorithm gains (mean of ratios), truncated to two decimals; the
	// ratio of means differs (see PaperResults.Table).
	tests := []struct {
		name                   string
		p                      PaperResults
		meanEarly, meanFinal   float64 // mean of ratios, percent
		ratioEarly, ratioFinal float64 // ratio of means, percent
	}{
		{"CIFAR-10", PaperTable3(), 36.6289, -1.1039, 28.0168, -1.1686},
		{"CIFAR-100", PaperTable4(), 23.1655, 8.4344, 19.5251, 8.4346},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab := tc.p.Table()
			got := []float64{100 * tab.Mean.EarlyGain, 100 * tab.Mean.FinalGain, 100 * tab.EarlyRatioOfMeans, 100 * tab.FinalRatioOfMeans}
			want := []float64{tc.meanEarly, tc.meanFinal, tc.ratioEarly, tc.ratioFinal}
			for i := range got {
				if !near(got[i], want[i], 1e-4) {
					t.Errorf("gain %d = %.5f%%, want %.4f%%", i, got[i], want[i])
				}
			}
			// The stated headline: within 0.01 point, and equal after truncation.
			for _, c := range []struct{ got, stated float64 }{
				{100 * tab.Mean.EarlyGain, tc.p.HeadlineEarly},
				{100 * tab.Mean.FinalGain, tc.p.HeadlineFinal},
			} {
				if math.Abs(c.got-c.stated) >= 0.01 || !near(trunc2(c.got), c.stated, 1e-9) {
					t.Errorf("mean gain %.4f%% does not give the stated %.2f%%", c.got, c.stated)
				}
			}
			if len(tab.Rows) != 6 || tab.Rows[0].Algorithm != "ASHA" || tab.Rows[5].Algorithm != "PB2" {
				t.Errorf("rows %+v", tab.Rows)
			}
		})
	}
	// The per-algorithm gains, e.g. CIFAR-10 AHB at 500 s: 0.6526/0.3528 − 1.
	r, ok := PaperTable3().Table().Row("ahb")
	if !ok || !near(r.EarlyGain, 0.6526/0.3528-1, 1e-12) {
		t.Errorf("AHB row %+v", r)
	}
}

func TestNewTable(t *testing.T) {
	tab, err := NewTable(fixture(), TableConfig{Early: 50})
	if err != nil {
		t.Fatal(err)
	}
	if tab.Early != 50 || tab.Final != 100 || tab.Baseline != SGD || tab.Treatment != HGD {
		t.Fatalf("table %+v", tab)
	}
	asha := tab.Rows[0]
	// ASHA at 50 s: SGD .30 .35 .25; HGD .60 .25 .35. At 100 s: SGD .40 .35 .50; HGD .60 .70 .35.
	want := []struct {
		s          Stat
		mean, half float64
	}{
		{asha.EarlyBaseline, .30, 4.302653 * 0.05 / math.Sqrt(3)},
		{asha.EarlyTreatment, .40, 4.302653 * 0.1802776 / math.Sqrt(3)},
		{asha.FinalBaseline, 1.25 / 3, 4.302653 * 0.0763763 / math.Sqrt(3)},
		{asha.FinalTreatment, 1.65 / 3, 4.302653 * 0.1802776 / math.Sqrt(3)},
	}
	for i, w := range want {
		if !near(w.s.Mean, w.mean, 1e-12) || !near(w.s.HalfWidth, w.half, 1e-5) {
			t.Errorf("stat %d = %+v, want %v ± %v", i, w.s, w.mean, w.half)
		}
	}
	if !near(asha.EarlyGain, .40/.30-1, 1e-12) || !near(asha.FinalGain, 1.65/1.25-1, 1e-12) {
		t.Errorf("gains %v %v", asha.EarlyGain, asha.FinalGain)
	}
	pbt := tab.Rows[1]
	// PBT at 50 s: SGD .05 .10 .20 → .35/3; HGD .40 .42 .38 → .40.
	meanGain := (asha.EarlyGain + pbt.EarlyGain) / 2
	if !near(pbt.EarlyGain, .40/(.35/3)-1, 1e-12) || !near(tab.Mean.EarlyGain, meanGain, 1e-12) {
		t.Errorf("PBT gain %v, mean gain %v", pbt.EarlyGain, tab.Mean.EarlyGain)
	}
	ratio := ((.40 + .40) / 2) / ((.30 + .35/3) / 2)
	if !near(tab.EarlyRatioOfMeans, ratio-1, 1e-12) || !near(tab.Mean.EarlyBaseline.Mean, (.30+.35/3)/2, 1e-12) {
		t.Errorf("ratio of means %v", tab.EarlyRatioOfMeans)
	}
}

func TestTableMarkdown(t *testing.T) {
	e := &Experiment{Name: "toy", Budget: 60, Runs: []Run{
		{Algorithm: "ASHA", Arm: SGD, Seed: 0, Curve: Curve{{0, .20}, {30, .50}}},
		{Algorithm: "ASHA", Arm: SGD, Seed: 1, Curve: Curve{{0, .40}}},
		{Algorithm: "ASHA", Arm: HGD, Seed: 0, Curve: Curve{{0, .30}, {40, .60}}},
		{Algorithm: "ASHA", Arm: HGD, Seed: 1, Curve: Curve{{20, .50}}}, // not started at 10 s
	}}
	tab, err := NewTable(e, TableConfig{Early: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := tab.Markdown()
	// ASHA at 10 s: SGD .2 .4 → .3 ± 12.7062·.1414/√2 = 1.2706; HGD .3 (1 of 2).
	// At 60 s: SGD .5 .4 → .45 ± .6353; HGD .6 .5 → .55 ± .6353.
	// Paired at 60 s: differences +.1, +.1 → +10.00 points with no spread
	// (t = ∞, p = 0); log ratios log 1.2, log 1.25 → mean .20273, s = .028864,
	// geometric-mean gain e^.20273 − 1 = +22.47%, interval
	// e^(.20273 ± 12.7062·.028864/√2) − 1 = [−5.50%, +58.74%]; Wilcoxon on two
	// tied positive differences: p = 2·P(W+ ≥ 3) = 0.5. At 10 s one pair.
	want := `**toy: mean best validation accuracy (± 95% CI over seeds)**

| algorithm | SGD @ 10 s | HGD @ 10 s | gain @ 10 s | SGD @ 60 s | HGD @ 60 s | gain @ 60 s |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
| ASHA | 0.3000 ± 1.2706 | 0.3000 [n=1/2] | +0.00% | 0.4500 ± 0.6353 | 0.5500 ± 0.6353 | +22.22% |
| mean | 0.3000 | 0.3000 | +0.00% | 0.4500 | 0.5500 | +22.22% |
| ratio of means |  |  | +0.00% |  |  | +22.22% |

Accuracy: mean ± 95% CI half-width over seeds (Student t, n−1 df); [n=k/K]: only k of K seeds had a value yet.
gain = (HGD − SGD)/SGD of the mean accuracies, as the paper reports it: descriptive, no test. Row mean: mean over algorithms; its gain is the mean of the per-algorithm gains. Row ratio of means: gain of the mean accuracies.

**Paired comparison, HGD − SGD, seed by seed**

| algorithm | at | pairs | Δ points [95% CI] | geometric-mean gain [95% CI] | p (paired t) | p (Wilcoxon) | p Holm (paired t) | detectable Δ points (80% power) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| ASHA | 10 s | 1/2 | +10.00 | +50.00% | — | 1.0000 | — | — |
| ASHA | 60 s | 2 | +10.00 [+10.00, +10.00] | +22.47% [-5.50%, +58.74%] | 0.0000* | 0.5000 | 0.0000* | 0.0 |

2 seeds cannot separate the arms`
	if !strings.HasPrefix(got, want) {
		t.Errorf("Markdown:\n%s\nwant prefix:\n%s", got, want)
	}
	if !strings.Contains(got, "Student t, n−1 df") {
		t.Errorf("notes missing:\n%s", got)
	}

	// With the paper beside: cells carry the reference in parentheses.
	paper := PaperTable3().Table()
	tab.Reference = paper
	got = tab.Markdown()
	for _, s := range []string{"0.3000 ± 1.2706 (0.5164)", "+0.00% (+44.17%)", "+22.22% (-2.05%)", "+0.00% (+36.63%)", "In parentheses: CIFAR-10: the paper's Table 3 (stated mean gains +36.62% at 500 s, -1.10% at 3000 s)."} {
		if !strings.Contains(got, s) {
			t.Errorf("Markdown with reference lacks %q:\n%s", s, got)
		}
	}
}

func TestTableLaTeX(t *testing.T) {
	tab := PaperTable4().Table()
	tab.Title = "CIFAR-100 & 50% of_all"
	got := tab.LaTeX()
	for _, s := range []string{
		`\begin{table}[ht]`, `\caption{CIFAR-100 \& 50\% of\_all}`, `\begin{tabular}{lrrrrrr}`, `\toprule`,
		`algorithm & SGD @ 500\,s & HGD @ 500\,s & gain @ 500\,s & SGD @ 3000\,s & HGD @ 3000\,s & gain @ 3000\,s \\`,
		`ASHA & $0.3467$ & $0.3749$ & $+8.13\%$ & $0.3736$ & $0.4204$ & $+12.53\%$ \\`,
		`mean & $0.3067$ & $0.3666$ & $+23.17\%$ & $0.4142$ & $0.4491$ & $+8.43\%$ \\`,
		`ratio of means &  &  & $+19.53\%$ &  &  & $+8.43\%$ \\`,
		`\bottomrule`, `\end{tabular}`, `\end{table}`, `mean $\pm$ 95\% CI`,
	} {
		if !strings.Contains(got, s) {
			t.Errorf("LaTeX lacks %q:\n%s", s, got)
		}
	}
	if strings.Count(got, `\\`+"\n") != 9 { // header + 6 rows + mean + ratio
		t.Errorf("LaTeX rows: %d\n%s", strings.Count(got, `\\`+"\n"), got)
	}
	if strings.ContainsAny(got, "−±") {
		t.Errorf("LaTeX has raw Unicode math:\n%s", got)
	}
}
