package asha_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

// ASHA (promotion) with a 1-epoch grace period up to 27 epochs, η = 3, on
// the synthetic problem with a simulated clock; 60 trials on one slot.
func Example() {
	sched, err := asha.New(asha.Config{MinBudget: 1, MaxBudget: 27, Eta: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	clock := hpo.NewManualClock(time.Unix(0, 0))
	prob := &synthetic.Problem{Seed: 1, Noise: 0.005, StepCost: time.Second, Clock: clock}
	rep, err := hpo.Run(context.Background(), hpo.Experiment{
		Space:     synthetic.Space(),
		Metric:    hpo.Metric{Name: "acc", Goal: hpo.Maximize},
		Factory:   prob.Factory(),
		Scheduler: sched,
		Slots:     1,
		MaxTrials: 60,
		Seed:      7,
		Clock:     clock,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	perRung := map[int]int{}
	for _, r := range rep.Records {
		perRung[r.Budget]++
	}
	best, _ := rep.Best()
	fmt.Println("results per rung:", perRung)
	fmt.Printf("best acc %.3f (trial %d at epoch %d) after %v of simulated training\n",
		best.Metrics["acc"], best.Trial, best.Budget, rep.Elapsed)
	// Output:
	// results per rung: map[1:60 3:21 9:7 27:3]
	// best acc 0.884 (trial 15 at epoch 27) after 3m28.875s of simulated training
}
