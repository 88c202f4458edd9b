package plots

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// TestResult is the outcome of a two-sided test of "no difference".
type TestResult struct {
	// Name names the test ("paired t", "Wilcoxon signed-rank").
	Name string
	// Statistic is the test statistic: t for the t-test, W+ (the sum of
	// the ranks of the positive differences) for the Wilcoxon test.
	Statistic float64
	// P is the two-sided p-value; NaN when the test is undefined (fewer
	// than two values for t, all differences zero).
	P float64
	// N is the number of differences used (for Wilcoxon: the non-zero ones).
	N int
	// Exact reports an exact p-value (Wilcoxon with N ≤ WilcoxonExactMax).
	Exact bool
}

// TTest is the one-sample Student t-test of mean zero on xs (NaN entries are
// skipped): t = mean/(s/√n) with n−1 degrees of freedom, two-sided p. On
// paired differences it is the paired t-test (see PairedTTest). With n < 2,
// or when every value is the same and zero, P is NaN; a constant non-zero
// sample gives |t| = ∞ and P = 0.
func TTest(xs []float64) TestResult {
	r := TestResult{Name: "paired t", Statistic: math.NaN(), P: math.NaN()}
	var vals []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			vals = append(vals, x)
		}
	}
	r.N = len(vals)
	if r.N < 2 {
		return r
	}
	mean := 0.0
	for _, x := range vals {
		mean += x
	}
	mean /= float64(r.N)
	ss := 0.0
	for _, x := range vals {
		ss += (x - mean) * (x - mean)
	}
	se := math.Sqrt(ss/float64(r.N-1)) / math.Sqrt(float64(r.N))
	if se == 0 {
		if mean != 0 {
			r.Statistic, r.P = math.Inf(int(math.Copysign(1, mean))), 0
		}
		return r
	}
	r.Statistic = mean / se
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(r.N - 1)}
	r.P = math.Min(1, 2*t.Survival(math.Abs(r.Statistic)))
	return r
}

// PairedTTest is the paired t-test of treatment against baseline: TTest of
// the differences treatment[k] − baseline[k] over the pairs where both are
// present (not NaN). The slices must have the same length.
func PairedTTest(baseline, treatment []float64) (TestResult, error) {
	d, err := differences(baseline, treatment)
	if err != nil {
		return TestResult{}, err
	}
	return TTest(d), nil
}

func differences(baseline, treatment []float64) ([]float64, error) {
	if len(baseline) != len(treatment) {
		return nil, fmt.Errorf("%w: %d baseline values but %d treatment values", ErrBadConfig, len(baseline), len(treatment))
	}
	var d []float64
	for k := range baseline {
		if !math.IsNaN(baseline[k]) && !math.IsNaN(treatment[k]) {
			d = append(d, treatment[k]-baseline[k])
		}
	}
	return d, nil
}

// WilcoxonExactMax is the largest number of non-zero differences for which
// Wilcoxon gives the exact p-value; above it the normal approximation.
const WilcoxonExactMax = 25

// Wilcoxon is the Wilcoxon signed-rank test of "the differences ds are
// symmetric about zero", two-sided. Conventions:
//
//   - NaN entries are skipped; zero differences are DROPPED before ranking
//     (Wilcoxon's original convention, scipy's zero_method="wilcox"), so N
//     counts the non-zero differences;
//   - tied |d| (exactly equal float64 values) get the mean of their ranks
//     (midranks);
//   - the statistic is W+ = the sum of the ranks of the positive differences;
//   - N ≤ WilcoxonExactMax: the exact p-value of the permutation
//     distribution of W+ given the ranks (each sign ± with probability ½;
//     with ties this is the exact conditional distribution of the midranks),
//     computed by dynamic programming over the sums of doubled ranks (which
//     are integers); p = min(1, 2·min(P(W ≤ W+), P(W ≥ W+)));
//   - N > WilcoxonExactMax: the normal approximation, mean N(N+1)/4,
//     variance N(N+1)(2N+1)/24 − Σ(t³−t)/48 over tie groups of size t, no
//     continuity correction (scipy's method="approx", correction=False).
//
// With no non-zero difference P is NaN. With N = 5 the smallest two-sided
// p-value is 2/2⁵ = 0.0625: five seeds can never reach p < 0.05.
func Wilcoxon(ds []float64) TestResult {
	ranks2, wPlus2, n := signedRanks(ds)
	r := TestResult{Name: "Wilcoxon signed-rank", Statistic: float64(wPlus2) / 2, P: math.NaN(), N: n}
	if n == 0 {
		return r
	}
	if n <= WilcoxonExactMax {
		r.P, r.Exact = wilcoxonExact(ranks2, wPlus2), true
		return r
	}
	r.P = wilcoxonNormal(ranks2, wPlus2)
	return r
}

// PairedWilcoxon is Wilcoxon of the differences treatment[k] − baseline[k]
// over the pairs where both are present.
func PairedWilcoxon(baseline, treatment []float64) (TestResult, error) {
	d, err := differences(baseline, treatment)
	if err != nil {
		return TestResult{}, err
	}
	return Wilcoxon(d), nil
}

// signedRanks drops NaN and zero entries and returns twice the midranks of
// |d| (integers), in the order of the kept values, twice W+ and the count.
func signedRanks(ds []float64) (ranks2 []int, wPlus2, n int) {
	var d []float64
	for _, x := range ds {
		if !math.IsNaN(x) && x != 0 {
			d = append(d, x)
		}
	}
	n = len(d)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return math.Abs(d[idx[a]]) < math.Abs(d[idx[b]]) })
	ranks2 = make([]int, n)
	for i := 0; i < n; {
		j := i
		for j+1 < n && math.Abs(d[idx[j+1]]) == math.Abs(d[idx[i]]) {
			j++
		}
		// Positions i..j (ranks i+1..j+1) share the midrank (i+j+2)/2.
		for k := i; k <= j; k++ {
			ranks2[idx[k]] = i + j + 2
		}
		i = j + 1
	}
	for i, x := range d {
		if x > 0 {
			wPlus2 += ranks2[i]
		}
	}
	return ranks2, wPlus2, n
}

// wilcoxonExact returns the exact two-sided p-value of the statistic w2
// (twice W+) under random signs of the doubled ranks: counts[s] is the
// number of sign patterns whose positive doubled ranks sum to s.
func wilcoxonExact(ranks2 []int, w2 int) float64 {
	total := 0
	for _, r := range ranks2 {
		total += r
	}
	counts := make([]float64, total+1)
	counts[0] = 1
	reach := 0
	for _, r := range ranks2 {
		for s := reach; s >= 0; s-- {
			if counts[s] != 0 {
				counts[s+r] += counts[s]
			}
		}
		reach += r
	}
	le, ge, all := 0.0, 0.0, 0.0
	for s, c := range counts {
		all += c
		if s <= w2 {
			le += c
		}
		if s >= w2 {
			ge += c
		}
	}
	return math.Min(1, 2*math.Min(le, ge)/all)
}

// wilcoxonNormal returns the two-sided p-value of the normal approximation
// (tie-corrected variance, no continuity correction).
func wilcoxonNormal(ranks2 []int, w2 int) float64 {
	n := float64(len(ranks2))
	mean := n * (n + 1) / 4
	variance := n * (n + 1) * (2*n + 1) / 24
	ties := map[int]float64{}
	for _, r := range ranks2 {
		ties[r]++
	}
	for _, t := range ties {
		variance -= (t*t*t - t) / 48
	}
	if variance <= 0 {
		return math.NaN()
	}
	z := (float64(w2)/2 - mean) / math.Sqrt(variance)
	return math.Min(1, 2*distuv.UnitNormal.CDF(-math.Abs(z)))
}

// ClopperPearson returns the two-sided Clopper–Pearson ("exact") interval
// of a binomial proportion with k successes of n trials at a confidence
// level in (0, 1) (zero means DefaultLevel): the α/2 quantile of
// Beta(k, n−k+1) and the 1−α/2 quantile of Beta(k+1, n−k), with 0 when
// k = 0 and 1 when k = n. It is conservative (coverage ≥ level).
func ClopperPearson(k, n int, level float64) (lo, hi float64, err error) {
	if level, err = resolveLevel(level); err != nil {
		return 0, 0, err
	}
	if n < 1 || k < 0 || k > n {
		return 0, 0, fmt.Errorf("%w: %d successes of %d trials", ErrBadConfig, k, n)
	}
	alpha := 1 - level
	lo, hi = 0, 1
	if k > 0 {
		lo = distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1)}.Quantile(alpha / 2)
	}
	if k < n {
		hi = distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile(1 - alpha/2)
	}
	return lo, hi, nil
}

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

// Holm adjusts p-values for multiple comparisons by Holm's step-down
// procedure, which keeps the probability of any false rejection in the
// family at most α: with the m non-NaN p-values sorted p(1) ≤ … ≤ p(m),
// the adjusted p(i) is max over j ≤ i of min(1, (m − j + 1)·p(j)). NaN
// entries stay NaN and do not count in m.
func Holm(ps []float64) []float64 {
	out := make([]float64, len(ps))
	var idx []int
	for i, p := range ps {
		out[i] = math.NaN()
		if !math.IsNaN(p) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return ps[idx[a]] < ps[idx[b]] })
	m, run := len(idx), 0.0
	for j, i := range idx {
		run = math.Max(run, math.Min(1, float64(m-j)*ps[i]))
		out[i] = run
	}
	return out
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

// Leads counts where the treatment's mean over seeds is above the
// baseline's, over the cells (algorithm, checkpoint) of an experiment.
//
// Cells are not independent comparisons: at an early checkpoint several
// algorithms may still hold the same values (each seed's first trial, the
// same in every algorithm that starts from the same configuration), and
// then they are one comparison counted several times. Cells of one
// checkpoint whose per-seed values are identical in both arms count once
// in Distinct, and Share and its interval are over the distinct
// comparisons.
type Leads struct {
	// Leads of Cells: cells where both arms have a mean; a tie is no lead.
	Leads, Cells int
	// DistinctLeads of Distinct: the same over distinct comparisons.
	DistinctLeads, Distinct int
	// Share is DistinctLeads/Distinct, Lo and Hi its Clopper–Pearson
	// interval at Level. NaN when Distinct is 0.
	Share, Lo, Hi, Level float64
	// Times are the checkpoints counted.
	Times []float64
	// Coincident[j] lists the groups of algorithms whose per-seed values
	// are identical in both arms at Times[j] (each group counted once).
	Coincident [][][]string
	// Reported[arm][j] is the mean number of trials per run of the arm
	// that had reported a result by Times[j] (Run.FirstResults); absent
	// when the runs do not record their results.
	Reported map[Arm][]float64
	// Data is the experiment's name (its data set), which the cells come
	// from.
	Data string
}

// CountLeads counts, over every algorithm of e and every checkpoint in
// times, the cells and the distinct comparisons in which treatment's mean
// is above baseline's, with the Clopper–Pearson interval of the share of
// distinct comparisons at level (zero: DefaultLevel). The interval treats
// the comparisons as independent trials, which they are not (the same
// seeds run at every checkpoint): read it as indicative.
func CountLeads(e *Experiment, baseline, treatment Arm, times []float64, level float64) (Leads, error) {
	level, err := validLevel(e, level)
	if err != nil {
		return Leads{}, err
	}
	l := Leads{Share: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Level: level, Times: append([]float64(nil), times...), Data: e.Name}
	for _, t := range times {
		groups := map[string][]string{}
		var keys []string
		for _, alg := range e.Algorithms() {
			b, err := e.At(alg, baseline, t, level)
			if err != nil {
				return Leads{}, err
			}
			tr, err := e.At(alg, treatment, t, level)
			if err != nil {
				return Leads{}, err
			}
			if math.IsNaN(b.Mean) || math.IsNaN(tr.Mean) {
				continue
			}
			l.Cells++
			lead := tr.Mean > b.Mean
			if lead {
				l.Leads++
			}
			bv, tv := e.Pairs(alg, baseline, treatment, t)
			key := fmt.Sprint(bv, tv)
			if _, seen := groups[key]; !seen {
				keys = append(keys, key)
				l.Distinct++
				if lead {
					l.DistinctLeads++
				}
			}
			groups[key] = append(groups[key], alg)
		}
		var same [][]string
		for _, k := range keys {
			if len(groups[k]) > 1 {
				same = append(same, groups[k])
			}
		}
		l.Coincident = append(l.Coincident, same)
	}
	for _, arm := range []Arm{baseline, treatment} {
		counts := make([]float64, len(times))
		runs := 0
		for _, r := range e.Runs {
			if r.Arm != arm || r.FirstResults == nil {
				continue
			}
			runs++
			for j, t := range times {
				for _, at := range r.FirstResults {
					if at <= t {
						counts[j]++
					}
				}
			}
		}
		if runs > 0 {
			if l.Reported == nil {
				l.Reported = map[Arm][]float64{}
			}
			for j := range counts {
				counts[j] /= float64(runs)
			}
			l.Reported[arm] = counts
		}
	}
	if l.Distinct > 0 {
		l.Share = float64(l.DistinctLeads) / float64(l.Distinct)
		if l.Lo, l.Hi, err = ClopperPearson(l.DistinctLeads, l.Distinct, level); err != nil {
			return Leads{}, err
		}
	}
	return l, nil
}
