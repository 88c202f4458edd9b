package genetic_test

import (
	"context"
	"fmt"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/genetic"
)

// Ten generations of 20 on a mixed space with a known optimum (value 1),
// every child trained to the same budget by hpo.FIFO.
func Example() {
	ga, err := genetic.New(genetic.Config{Space: mixedSpace(), PopulationSize: 20, Generations: 10, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := hpo.Run(context.Background(), hpo.Experiment{
		Space: mixedSpace(), Metric: hpo.Metric{Name: "acc"}, Factory: sphereFactory,
		Scheduler: &hpo.FIFO{MaxBudget: 1}, Searcher: ga, Slots: 2,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	bestOfGen := make([]float64, 10)
	for _, r := range rep.Records {
		g := int(r.Trial) / 20
		bestOfGen[g] = max(bestOfGen[g], r.Metrics["acc"])
	}
	fmt.Println(rep.Reason, len(rep.Trials), "trials")
	fmt.Printf("best of generation 0: %.3f, of generation 9: %.3f\n", bestOfGen[0], bestOfGen[9])
	// Output:
	// searcher exhausted 200 trials
	// best of generation 0: 0.071, of generation 9: 0.256
}
