package plots

import (
	"math"
	"math/rand/v2"
)

// synthetic returns a deterministic experiment shaped like the paper's: six
// algorithms, two arms, `seeds` seeds, budget 3000 s, HGD rising faster.
func synthetic(seeds int) *Experiment {
	e := &Experiment{Name: "synthetic", Budget: 3000}
	for ai, alg := range PaperAlgorithms() {
		for _, arm := range []Arm{SGD, HGD} {
			tau := 900.0
			if arm == HGD {
				tau = 400
			}
			for s := range seeds {
				r := rand.New(rand.NewPCG(uint64(ai), uint64(s)*2+map[Arm]uint64{SGD: 0, HGD: 1}[arm]))
				var ts, vs []float64
				t := 20 + 60*r.Float64()
				for t < 3000 {
					ts = append(ts, t)
					vs = append(vs, (0.75+0.02*float64(ai%3))*(1-math.Exp(-t/tau))+0.04*r.NormFloat64())
					t += 30 + 90*r.Float64()
				}
				c, err := BestSoFar(ts, vs)
				if err != nil {
					panic(err)
				}
				e.Runs = append(e.Runs, Run{Algorithm: alg, Arm: arm, Seed: s, Curve: c})
			}
		}
	}
	return e
}
