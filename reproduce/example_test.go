package reproduce_test

import (
	"fmt"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/reproduce"
)

// What one training step of a cpu-study network costs under each cost
// model of the compute clock: a folder made with the first model keeps its
// prices; new folders get the current one's.
func ExampleCostModelNamed() {
	net := cnn.Config{Case: cnn.Case1, Conv: [3]int{16, 16, 16}, FC: [2]int{256, 64}}
	for _, name := range []string{reproduce.CostsGoMLX0282, ""} {
		m, err := reproduce.CostModelNamed(name)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %.1f ms per step of batch 32 (SGD), %.1f ms (HGD)\n", m.Name,
			1e3*m.Step(net, 32, hgd.Momentum), 1e3*m.Step(net, 32, hgd.HGD))
	}
	// Output:
	// gomlx-v0.28.2: 34.8 ms per step of batch 32 (SGD), 35.0 ms (HGD)
	// gomlx-v0.28.16: 21.3 ms per step of batch 32 (SGD), 21.3 ms (HGD)
}

// The effective sample size of importance weights: n for equal weights,
// less when a few weights dominate.
func ExampleESS() {
	fmt.Printf("%.1f\n", reproduce.ESS([]float64{1, 1, 1, 1}))
	fmt.Printf("%.1f\n", reproduce.ESS([]float64{2, 2, 0.5, 0.5}))
	// Output:
	// 4.0
	// 2.9
}
