// Package stattest holds the statistics that the algorithm tests use to
// claim "beats random search by a margin chance cannot reach".
package stattest

import "math"

// SignTestP is the one-sided p-value of the paired sign test: the
// probability that a fair coin gives at least wins heads in n tosses (drop
// ties before counting n).
func SignTestP(wins, n int) float64 {
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x)); return v }
	p := 0.0
	for k := wins; k <= n; k++ {
		p += math.Exp(lg(n+1) - lg(k+1) - lg(n-k+1) - float64(n)*math.Ln2)
	}
	return p
}
