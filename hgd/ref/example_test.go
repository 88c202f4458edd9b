package ref_test

import (
	"fmt"

	"github.com/hgdtune/hgdtune/hgd/ref"
)

// Minimize the ill-conditioned quadratic f(x, y) = ½(x² + 25·y²) with HGD:
// α and γ adapt from their initial values.
func Example() {
	grad := func(p [][]float64) [][]float64 { return [][]float64{{p[0][0], 25 * p[0][1]}} }
	f := func(p [][]float64) float64 { return 0.5 * (p[0][0]*p[0][0] + 25*p[0][1]*p[0][1]) }

	cfg := ref.Defaults(ref.HGD)                    // every hyperparameter at its default …
	cfg.Gamma0, cfg.Beta, cfg.Eta = 0.5, 1e-5, 1e-4 // … but these
	params := [][]float64{{3, 2}}
	st, err := ref.Init(cfg, params)
	if err != nil {
		panic(err)
	}
	fmt.Printf("start: f=%.4f α=%.4f γ=%.4f\n", f(params), st.Alpha, st.Gamma)
	for range 100 {
		params, st, err = ref.Update(cfg, st, params, grad(params))
		if err != nil {
			panic(err)
		}
	}
	fmt.Printf("100 steps: f=%.2g α=%.4f γ=%.4f skipped=%d\n", f(params), st.Alpha, st.Gamma, st.Skipped)
	// Output:
	// start: f=54.5000 α=0.0100 γ=0.5000
	// 100 steps: f=2.5e-06 α=0.0331 γ=0.4970 skipped=0
}
