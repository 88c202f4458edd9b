package hpo_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

// Random search on the synthetic problem: 20 trials of 27 epochs each, one
// slot, a simulated clock advanced by the training cost (one second per
// epoch of a 4-layer model), so the example runs in milliseconds.
func Example() {
	clock := hpo.NewManualClock(time.Unix(0, 0))
	prob := &synthetic.Problem{Seed: 1, Noise: 0.005, StepCost: time.Second, Clock: clock}
	rep, err := hpo.Run(context.Background(), hpo.Experiment{
		Space:     synthetic.Space(),
		Metric:    hpo.Metric{Name: "acc", Goal: hpo.Maximize},
		Factory:   prob.Factory(),
		Scheduler: &hpo.FIFO{MaxBudget: 27, Step: 9},
		Slots:     1,
		MaxTrials: 20,
		Seed:      7,
		Clock:     clock,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	best, _ := rep.Best()
	fmt.Printf("%d trials, %d results, ended: %s\n", len(rep.Trials), len(rep.Records), rep.Reason)
	fmt.Printf("best acc %.3f by trial %d at epoch %d\n", best.Metrics["acc"], best.Trial, best.Budget)
	for _, p := range rep.Curve {
		fmt.Printf("%6.0fs %.3f (trial %d)\n", p.Elapsed.Seconds(), p.Best, p.Trial)
	}
	// Output:
	// 20 trials, 60 results, ended: trial budget
	// best acc 0.944 by trial 8 at epoch 18
	//     14s 0.488 (trial 0)
	//     27s 0.555 (trial 0)
	//     40s 0.575 (trial 0)
	//     48s 0.838 (trial 1)
	//     56s 0.895 (trial 1)
	//    235s 0.905 (trial 8)
	//    244s 0.944 (trial 8)
}

// The same search on compute time: 4 virtual slots trained by 2 real
// workers, each job taking the synthetic problem's simulated cost of virtual
// time. The results, their order and their times are the same however many
// workers train them and however long the real training takes.
func Example_computeTime() {
	prob := &synthetic.Problem{Seed: 1, Noise: 0.005, StepCost: time.Second}
	rep, err := hpo.Run(context.Background(), hpo.Experiment{
		Space:      synthetic.Space(),
		Metric:     hpo.Metric{Name: "acc", Goal: hpo.Maximize},
		Factory:    prob.Factory(),
		Scheduler:  &hpo.FIFO{MaxBudget: 27, Step: 9},
		Slots:      4,
		Workers:    2,
		Seed:       7,
		Cost:       prob.Cost,
		TimeBudget: 2 * time.Minute,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	best, _ := rep.Best()
	fmt.Printf("%d trials, %d results in %v, ended: %s\n", len(rep.Trials), len(rep.Records), rep.Elapsed, rep.Reason)
	fmt.Printf("best acc %.3f by trial %d at epoch %d\n", best.Metrics["acc"], best.Trial, best.Budget)
	// Output:
	// 19 trials, 49 results in 2m0s, ended: time budget
	// best acc 0.944 by trial 8 at epoch 18
}
