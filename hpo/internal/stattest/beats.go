package stattest

import "testing"

// BeatsRandom is the check "name beats random search": for each seed in
// 1..seeds, run returns the best result of the algorithm and of random
// search (larger is better); the one-sided paired sign test over the
// non-tied seeds must give p < 0.01 (≥ 11 wins of 12), or t fails.
func BeatsRandom(t testing.TB, name string, seeds int, run func(seed uint64) (alg, random float64)) {
	t.Helper()
	wins, n := 0, 0
	var sum float64
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		a, r := run(seed)
		t.Logf("seed %2d: %s %.4f random %.4f", seed, name, a, r)
		sum += a - r
		if a != r {
			n++
			if a > r {
				wins++
			}
		}
	}
	pv := SignTestP(wins, n)
	t.Logf("%s wins %d of %d non-tied seeds, mean gain %.4f, sign test p = %.5f", name, wins, n, sum/float64(seeds), pv)
	if pv >= 0.01 {
		t.Fatalf("%s does not beat random search: %d wins of %d, p = %.4f", name, wins, n, pv)
	}
}
