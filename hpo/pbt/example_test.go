package pbt_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/pbt"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

// PBT with a population of 8 on the synthetic problem: every 5 iterations
// the bottom quarter copies a member of the top quarter and perturbs its
// learning rate and momentum (the architecture stays fixed).
func Example() {
	sched, err := pbt.New(pbt.Config{
		Space:          synthetic.Space(),
		PopulationSize: 8,
		Interval:       5,
		MaxBudget:      50,
		Mutable:        []string{"lr", "momentum"},
		Seed:           1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	clock := hpo.NewManualClock(time.Unix(0, 0))
	prob := &synthetic.Problem{Seed: 1, StepCost: time.Second, Clock: clock}
	rep, err := hpo.Run(context.Background(), hpo.Experiment{
		Space: synthetic.Space(), Metric: hpo.Metric{Name: "acc", Goal: hpo.Maximize},
		Factory: prob.Factory(), Scheduler: sched, Slots: 1, Seed: 3, Clock: clock,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	initial := 0.0 // the best asymptotic accuracy among the initial configurations
	for _, r := range rep.Records {
		if r.Budget == 5 {
			initial = max(initial, synthetic.Asymptote(r.Config))
		}
	}
	fmt.Printf("best initial configuration could reach %.3f\n", initial)
	best, _ := rep.Best()
	fmt.Println("ended:", rep.Reason, "trials:", len(rep.Trials))
	fmt.Printf("best acc %.3f at iteration %d\n", best.Metrics["acc"], best.Budget)
	// Output:
	// best initial configuration could reach 0.807
	// ended: population done trials: 8
	// best acc 0.905 at iteration 50
}
