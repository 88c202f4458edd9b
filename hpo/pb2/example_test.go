package pb2_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/pb2"
	"github.com/hgdtune/hgdtune/hpo/pbt"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

// PB2 with a population of 6 on the synthetic problem: the GP bandit
// chooses the learning rate and momentum of exploiting members; layers and
// optimizer stay fixed (they are not Mutable).
func Example() {
	sched, err := pb2.New(pb2.Config{PBT: pbt.Config{
		Space: synthetic.Space(), PopulationSize: 6, Interval: 5, MaxBudget: 40,
		Mutable: []string{"lr", "momentum"}, Seed: 1,
	}})
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
	best, _ := rep.Best()
	fmt.Println("ended:", rep.Reason, "trials:", len(rep.Trials))
	fmt.Printf("best acc %.3f at iteration %d\n", best.Metrics["acc"], best.Budget)
	// Output:
	// ended: population done trials: 6
	// best acc 0.907 at iteration 40
}
