package plots_test

import (
	"fmt"

	"github.com/hgdtune/hgdtune/plots"
)

// Two seeds of one algorithm per arm, a 60 s budget: the table at 10 s and
// 60 s. HGD's second seed has no value yet at 10 s, so that cell averages one
// seed and has no interval.
func Example() {
	e := &plots.Experiment{Name: "toy", Budget: 60, Runs: []plots.Run{
		{Algorithm: "ASHA", Arm: plots.SGD, Seed: 0, Curve: plots.Curve{{T: 0, V: 0.20}, {T: 30, V: 0.50}}},
		{Algorithm: "ASHA", Arm: plots.SGD, Seed: 1, Curve: plots.Curve{{T: 0, V: 0.40}}},
		{Algorithm: "ASHA", Arm: plots.HGD, Seed: 0, Curve: plots.Curve{{T: 0, V: 0.30}, {T: 40, V: 0.60}}},
		{Algorithm: "ASHA", Arm: plots.HGD, Seed: 1, Curve: plots.Curve{{T: 20, V: 0.50}}},
	}}
	tab, err := plots.NewTable(e, plots.TableConfig{Early: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(tab.Markdown())
	// Output:
	// **toy: mean best validation accuracy (± 95% CI over seeds)**
	//
	// | algorithm | SGD @ 10 s | HGD @ 10 s | gain @ 10 s | SGD @ 60 s | HGD @ 60 s | gain @ 60 s |
	// | --- | ---: | ---: | ---: | ---: | ---: | ---: |
	// | ASHA | 0.3000 ± 1.2706 | 0.3000 [n=1/2] | +0.00% | 0.4500 ± 0.6353 | 0.5500 ± 0.6353 | +22.22% |
	// | mean | 0.3000 | 0.3000 | +0.00% | 0.4500 | 0.5500 | +22.22% |
	// | ratio of means |  |  | +0.00% |  |  | +22.22% |
	//
	// Accuracy: mean ± 95% CI half-width over seeds (Student t, n−1 df); [n=k/K]: only k of K seeds had a value yet.
	// gain = (HGD − SGD)/SGD of the mean accuracies, as the paper reports it: descriptive, no test. Row mean: mean over algorithms; its gain is the mean of the per-algorithm gains. Row ratio of means: gain of the mean accuracies.
	//
	// **Paired comparison, HGD − SGD, seed by seed**
	//
	// | algorithm | at | pairs | Δ points [95% CI] | geometric-mean gain [95% CI] | p (paired t) | p (Wilcoxon) | p Holm (paired t) | detectable Δ points (80% power) |
	// | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
	// | ASHA | 10 s | 1/2 | +10.00 | +50.00% | — | 1.0000 | — | — |
	// | ASHA | 60 s | 2 | +10.00 [+10.00, +10.00] | +22.47% [-5.50%, +58.74%] | 0.0000* | 0.5000 | 0.0000* | 0.0 |
	//
	// 2 seeds cannot separate the arms (at least 5 pairs are needed for a test to mean much). With 2 pairs, a difference at 60 s is detected with 80% power only if it is about 0.0 points or more (median over algorithms; 0.0–0.0).
	// Seed k of both arms is a pair (the same architectures and batch sizes). Δ: HGD − SGD in accuracy points, mean of the per-seed differences with its 95% Student-t interval. Geometric-mean gain: exp(mean of log(HGD_k/SGD_k)) − 1 with its interval. p: two-sided paired t-test and Wilcoxon signed-rank test (zero differences dropped, midranks, exact for ≤ 25 pairs) of the differences; * p < 0.05. p Holm: the paired t p-values adjusted by Holm's step-down procedure over the 2 comparisons of this table (family-wise error ≤ 0.05). Detectable Δ: the smallest true mean difference a paired t-test at 0.05 detects with 80% power given the observed spread, (t_{0.975, n−1} + t_{0.8, n−1})·SD/√n: a difference not significant here may still be any size below it.
	// HGD has the higher mean in 3 of 5 cells (algorithms × checkpoints 10, 20, 30, 40, 50 s), 3 of 5 distinct comparisons (toy only): 60.0%, 95% Clopper–Pearson interval [14.7%, 94.7%] (the comparisons share seeds, so the interval is indicative). The paper: HGD leads in 88.3% of cases, 53 of 60 cells over CIFAR-10 and CIFAR-100 together.
}

// The paper's own numbers reproduce its headline gains as the mean of the
// per-algorithm gains.
func ExamplePaperResults_Table() {
	for _, p := range []plots.PaperResults{plots.PaperTable3(), plots.PaperTable4()} {
		t := p.Table()
		fmt.Printf("%s: stated %+.2f%% / %+.2f%%; mean of ratios %+.4f%% / %+.4f%%; ratio of means %+.2f%% / %+.2f%%\n",
			p.Dataset, p.HeadlineEarly, p.HeadlineFinal,
			100*t.Mean.EarlyGain, 100*t.Mean.FinalGain, 100*t.EarlyRatioOfMeans, 100*t.FinalRatioOfMeans)
	}
	// Output:
	// CIFAR-10: stated +36.62% / -1.10%; mean of ratios +36.6289% / -1.1039%; ratio of means +28.02% / -1.17%
	// CIFAR-100: stated +23.16% / +8.43%; mean of ratios +23.1655% / +8.4344%; ratio of means +19.53% / +8.43%
}

// A curves figure (the paper's Figures 2/3) rendered to PNG bytes, as a
// notebook would pass them to gonbui.DisplayPNG.
func ExampleCurves() {
	e := &plots.Experiment{Name: "toy", Budget: 100, Runs: []plots.Run{
		{Algorithm: "PBT", Arm: plots.SGD, Seed: 0, Curve: plots.Curve{{T: 5, V: 0.2}, {T: 50, V: 0.4}}},
		{Algorithm: "PBT", Arm: plots.SGD, Seed: 1, Curve: plots.Curve{{T: 8, V: 0.3}}},
		{Algorithm: "PBT", Arm: plots.HGD, Seed: 0, Curve: plots.Curve{{T: 5, V: 0.5}}},
		{Algorithm: "PBT", Arm: plots.HGD, Seed: 1, Curve: plots.Curve{{T: 6, V: 0.6}, {T: 70, V: 0.7}}},
	}}
	f, err := plots.Curves(e, plots.CurvesConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	png, err := f.PNG()
	if err != nil {
		fmt.Println(err)
		return
	}
	w, h := f.Size.Pixels()
	sgd := f.Panels[0].Series[1].Band
	fmt.Println(f.Panels[0].Algorithm, f.Panels[0].Series[0].Arm, f.Panels[0].Series[1].Arm)
	fmt.Println("grid:", sgd.T)
	fmt.Println("SGD mean:", sgd.Mean, "seeds:", sgd.N)
	fmt.Printf("%d×%d PNG, %t\n", w, h, len(png) > 0)
	// Output:
	// PBT HGD SGD
	// grid: [0 5 8 50 100]
	// SGD mean: [NaN 0.2 0.25 0.35 0.35] seeds: [0 1 2 2 2]
	// 960×624 PNG, true
}
