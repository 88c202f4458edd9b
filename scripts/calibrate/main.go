// Command calibrate measures what the compute clock of `hgdtune reproduce
// -clock compute` charges: the time of one training step and of evaluating
// one image of the case-1 CNN on one core of this machine (GOMAXPROCS=1,
// the pure-Go backend), for networks across the cpu presets' search space,
// and fits
//
//	step  = StepOverhead + StepPerFLOP · 3 · FLOPs(net) · batch
//	eval  = EvalPerFLOP · FLOPs(net)            (per image)
//
// by least squares on the fastest of -repeats timings of each network (the
// minimum is what the machine can do when nothing else runs). It also
// measures HGD's step time over SGD+momentum's. Its output is the constants
// of reproduce/cost.go, with the machine they were measured on.
//
//	GOEXPERIMENT=simd go run ./scripts/calibrate
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hgd"
)

func main() {
	steps := flag.Int("steps", 20, "timed steps per network and repeat")
	repeats := flag.Int("repeats", 3, "repeats per network (the fastest counts)")
	flag.Parse()
	runtime.GOMAXPROCS(1)
	be, err := backend.New("go")
	if err != nil {
		fail(err)
	}
	defer be.Finalize()
	data, err := trainer.SplitData(cifar.Synthetic(3000, 10, 1), cifar.SplitConfig{})
	if err != nil {
		fail(err)
	}
	type point struct{ flops, step float64 }
	var pts []point
	var evalPerFLOP []float64
	var hgdRatio []float64
	nets := []struct {
		conv  [3]int
		fc    [2]int
		batch int
	}{
		{[3]int{4, 4, 4}, [2]int{32, 16}, 16},
		{[3]int{8, 8, 8}, [2]int{64, 32}, 32},
		{[3]int{16, 8, 16}, [2]int{128, 32}, 16},
		{[3]int{16, 16, 16}, [2]int{256, 64}, 32},
		{[3]int{16, 16, 16}, [2]int{256, 64}, 64},
		{[3]int{8, 16, 16}, [2]int{128, 64}, 64},
	}
	for _, n := range nets {
		net := cnn.Config{Case: cnn.Case1, Conv: n.conv, FC: n.fc}
		time1 := func(kind hgd.Kind) float64 {
			best := 0.0
			for r := range *repeats {
				t, err := trainer.New(be, data, trainer.Config{Net: net, BatchSize: n.batch, Seed: uint64(r), Optimizer: hgd.Defaults(kind)})
				if err != nil {
					fail(err)
				}
				for range 3 { // compile and warm up
					if _, err := t.Step(); err != nil {
						fail(err)
					}
				}
				start := time.Now()
				for range *steps {
					if _, err := t.Step(); err != nil {
						fail(err)
					}
				}
				s := time.Since(start).Seconds() / float64(*steps)
				if best == 0 || s < best {
					best = s
				}
				if kind == hgd.Momentum && r == 0 {
					start = time.Now()
					ev, err := t.Evaluate(context.Background())
					if err != nil {
						fail(err)
					}
					evalPerFLOP = append(evalPerFLOP, time.Since(start).Seconds()/float64(ev.N)/net.FLOPs())
				}
				t.Close()
			}
			return best
		}
		sgd, hg := time1(hgd.Momentum), time1(hgd.HGD)
		f := 3 * net.FLOPs() * float64(n.batch)
		pts = append(pts, point{f, sgd})
		hgdRatio = append(hgdRatio, hg/sgd)
		fmt.Printf("%-28s batch %3d  %.3g FLOPs/step  SGD %.2f ms  HGD %.2f ms (×%.3f)\n", net, n.batch, f, 1e3*sgd, 1e3*hg, hg/sgd)
	}
	// Least squares of step = a + b·flops.
	var sx, sy, sxx, sxy float64
	for _, p := range pts {
		sx += p.flops
		sy += p.step
		sxx += p.flops * p.flops
		sxy += p.flops * p.step
	}
	k := float64(len(pts))
	b := (k*sxy - sx*sy) / (k*sxx - sx*sx)
	a := (sy - b*sx) / k
	fmt.Printf("\nStepOverhead = %.4g s, StepPerFLOP = %.4g s, EvalPerFLOP = %.4g s (median of %d), HGD/SGD = %.4f (mean of %d)\n",
		a, b, median(evalPerFLOP), len(evalPerFLOP), mean(hgdRatio), len(hgdRatio))
	for _, p := range pts {
		fmt.Printf("  fit %.2f ms, measured %.2f ms\n", 1e3*(a+b*p.flops), 1e3*p.step)
	}
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func median(xs []float64) float64 {
	ys := append([]float64(nil), xs...)
	for i := range ys {
		for j := i + 1; j < len(ys); j++ {
			if ys[j] < ys[i] {
				ys[i], ys[j] = ys[j], ys[i]
			}
		}
	}
	return ys[len(ys)/2]
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "calibrate:", err)
	os.Exit(1)
}
