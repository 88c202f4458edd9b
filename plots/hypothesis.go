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
