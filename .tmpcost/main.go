package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/reproduce"
)

func main() {
	p := reproduce.Presets()["cpu-study"]
	m, _ := reproduce.CostModelNamed("")
	space, _ := p.Space(cnn.ArmHGD)
	rng := rand.New(rand.NewPCG(1, 1))
	var sum, mx, mn float64
	mn = 1e9
	n := 2000
	for range n {
		cfg := space.Sample(rng)
		tr, _ := cnn.FromConfig(p.Case(), cnn.ArmHGD, cfg)
		steps := 3500 / tr.BatchSize
		c := float64(steps)*m.Step(tr.Net, tr.BatchSize, tr.Optimizer.Kind) + m.Eval(tr.Net, 500)
		sum += c
		mx = max(mx, c)
		mn = min(mn, c)
	}
	fmt.Printf("epoch cost mean %.3f s, min %.3f, max %.3f\n", sum/float64(n), mn, mx)
}
