package plots

import (
	"fmt"
	"math"
	"sort"
)

// Power is the probability of detecting a true difference with which
// Paired.Detectable is computed: the conventional 80%.
const Power = 0.8

// MinPairs is the fewest pairs on which figures mark a difference as
// significant: with fewer, a p-value means little (a t-test on 2 pairs has
// one degree of freedom; Wilcoxon on 5 can never go below 0.0625).
const MinPairs = 5

// Paired compares two arms seed by seed: baseline[k] and treatment[k] are
// seed k's values of the two arms (accuracies in [0, 1]; NaN: no value; a
// pair counts when both are present).
//
// The primary comparison is the difference: Diff summarises the per-seed
// differences treatment[k] − baseline[k] (Mean, Student-t interval at the
// level; N pairs of Total seeds; ×100 they are accuracy points), T and
// Wilcoxon test them. LogRatio summarises the per-seed log ratios
// log(treatment[k]/baseline[k]) over the pairs where both are positive;
// GeoGain turns it into the geometric-mean gain. Unlike the mean of the
// per-seed relative gains, neither is dominated by a few seeds whose
// baseline is near zero.
type Paired struct {
	Diff     Stat
	LogRatio Stat
	// SD is the sample standard deviation of the differences (NaN for
	// N < 2).
	SD          float64
	T, Wilcoxon TestResult
	// Detectable is the smallest true mean difference that a two-sided
	// paired t-test at 1 − level would detect with probability Power, given
	// SD and N (DetectableDifference): what "not significant" can rule out.
	// NaN for N < 2.
	Detectable float64
	// Holm is the p-value of the table's test adjusted by Holm's step-down
	// procedure over the table's family of tests (NewTable); NaN outside a
	// table.
	Holm float64
}

// Of returns the result of the named test: TestWilcoxon, else the t-test.
func (p Paired) Of(test string) TestResult {
	if test == TestWilcoxon {
		return p.Wilcoxon
	}
	return p.T
}

// GeoGain returns the geometric-mean gain exp(mean log ratio) − 1 and its
// interval (NaN where LogRatio has none).
func (p Paired) GeoGain() (gain, lo, hi float64) {
	return math.Expm1(p.LogRatio.Mean), math.Expm1(p.LogRatio.Lo()), math.Expm1(p.LogRatio.Hi())
}

// ComparePaired computes the Paired comparison of two arms' per-seed values
// (same length, index = seed) at a confidence level (zero: DefaultLevel).
func ComparePaired(baseline, treatment []float64, level float64) (Paired, error) {
	if len(baseline) != len(treatment) {
		return Paired{}, fmt.Errorf("%w: %d baseline seeds but %d treatment seeds", ErrBadConfig, len(baseline), len(treatment))
	}
	level, err := resolveLevel(level)
	if err != nil {
		return Paired{}, err
	}
	diffs := make([]float64, len(baseline))
	logs := make([]float64, len(baseline))
	for k := range baseline {
		diffs[k], logs[k] = treatment[k]-baseline[k], math.NaN()
		if treatment[k] > 0 && baseline[k] > 0 {
			logs[k] = math.Log(treatment[k] / baseline[k])
		}
	}
	p := Paired{SD: math.NaN(), Detectable: math.NaN(), Holm: math.NaN()}
	if p.Diff, err = Summarize(diffs, level); err != nil {
		return Paired{}, err
	}
	if p.LogRatio, err = Summarize(logs, level); err != nil {
		return Paired{}, err
	}
	p.T, p.Wilcoxon = TTest(diffs), Wilcoxon(diffs)
	if n := p.Diff.N; n >= 2 {
		ss := 0.0
		for _, d := range diffs {
			if !math.IsNaN(d) {
				ss += (d - p.Diff.Mean) * (d - p.Diff.Mean)
			}
		}
		p.SD = math.Sqrt(ss / float64(n-1))
		p.Detectable = DetectableDifference(p.SD, n, level, Power)
	}
	return p, nil
}

// DetectableDifference returns the smallest true mean difference that a
// two-sided paired t-test at 1 − level detects with the given power, for
// n pairs whose differences have standard deviation sd:
//
//	(t_{(1+level)/2, n−1} + t_{power, n−1}) · sd / √n
//
// (the usual approximation of the noncentral t; for 10 pairs at 95% and
// 80% power, about 1.0 sd). NaN for n < 2.
func DetectableDifference(sd float64, n int, level, power float64) float64 {
	if n < 2 || math.IsNaN(sd) {
		return math.NaN()
	}
	df := float64(n - 1)
	return (TQuantile((1+level)/2, df) + TQuantile(power, df)) * sd / math.Sqrt(float64(n))
}

// Pairs returns, for one algorithm at time t, the values of the baseline
// and treatment arms seed by seed: index i is the i-th seed present in
// either arm (sorted), NaN where that arm has no run of the seed or its
// curve has no value yet.
func (e *Experiment) Pairs(algorithm string, baseline, treatment Arm, t float64) (b, tr []float64) {
	vals := map[Arm]map[int]float64{baseline: {}, treatment: {}}
	var seeds []int
	seen := map[int]bool{}
	for _, r := range e.Runs {
		if r.Algorithm != algorithm || (r.Arm != baseline && r.Arm != treatment) {
			continue
		}
		v, _ := r.Curve.At(t)
		vals[r.Arm][r.Seed] = v
		if !seen[r.Seed] {
			seen[r.Seed] = true
			seeds = append(seeds, r.Seed)
		}
	}
	sort.Ints(seeds)
	b, tr = make([]float64, len(seeds)), make([]float64, len(seeds))
	for i, s := range seeds {
		b[i], tr[i] = math.NaN(), math.NaN()
		if v, ok := vals[baseline][s]; ok {
			b[i] = v
		}
		if v, ok := vals[treatment][s]; ok {
			tr[i] = v
		}
	}
	return b, tr
}
