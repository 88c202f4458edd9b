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
// minimum is what the machine can do when nothing else runs); an
// evaluation is timed after a first one has compiled its graph. It also
// measures HGD's step time over SGD+momentum's. Its output is the prices
// of a reproduce.CostModel (reproduce/cost.go), with the machine they were
// measured on. Published models are never changed: a new calibration is
// added as a new model with a new name, and becomes CostsCurrent, so that
// results folders made with the old one keep replaying with it.
//
// The same machine runs at different speeds on different days (a virtual
// machine's host). So that a new model keeps the compute clock's unit, a
// second of the machine that the first model was fitted on, -baseline
// names a build of this program at the commit of an earlier model
// (-baseline-model): it measures the same networks in the same run, first,
// and the prices are also given scaled by the geometric mean, over the
// networks, of that model's step cost over the baseline's measured step:
// what the new code would have cost on the earlier model's machine.
//
//	GOEXPERIMENT=simd GOTOOLCHAIN=go1.27.3 go run ./scripts/calibrate
//	go run ./scripts/calibrate -baseline /tmp/calibrate-old -baseline-model gomlx-v0.28.2 -steps 50 -repeats 5
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/reproduce"
)

// network is one calibration point.
type network struct {
	conv  [3]int
	fc    [2]int
	batch int
}

func (n network) config() cnn.Config { return cnn.Config{Case: cnn.Case1, Conv: n.conv, FC: n.fc} }

// The networks, across the cpu presets' space; earlier builds measure the
// same ones in the same order (their output is read by -baseline).
var nets = []network{
	{[3]int{4, 4, 4}, [2]int{32, 16}, 16},
	{[3]int{8, 8, 8}, [2]int{64, 32}, 32},
	{[3]int{16, 8, 16}, [2]int{128, 32}, 16},
	{[3]int{16, 16, 16}, [2]int{256, 64}, 32},
	{[3]int{16, 16, 16}, [2]int{256, 64}, 64},
	{[3]int{8, 16, 16}, [2]int{128, 64}, 64},
}

func main() {
	steps := flag.Int("steps", 20, "timed steps per network and repeat")
	repeats := flag.Int("repeats", 3, "repeats per network (the fastest counts)")
	baseline := flag.String("baseline", "", "a build of this program at an earlier cost model's commit, measured first in the same run")
	baselineModel := flag.String("baseline-model", reproduce.CostsGoMLX0282, "the cost model that -baseline's build was calibrated as")
	flag.Parse()
	runtime.GOMAXPROCS(1)

	var base []float64 // the baseline's SGD step per network (seconds)
	if *baseline != "" {
		var err error
		if base, err = runBaseline(*baseline, *steps, *repeats); err != nil {
			fail(err)
		}
	}

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
	for i, n := range nets {
		net := n.config()
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
					evalPerFLOP = append(evalPerFLOP, timeEval(t)/net.FLOPs())
				}
				t.Close()
			}
			return best
		}
		sgd, hg := time1(hgd.Momentum), time1(hgd.HGD)
		f := 3 * net.FLOPs() * float64(n.batch)
		pts = append(pts, point{f, sgd})
		hgdRatio = append(hgdRatio, hg/sgd)
		line := fmt.Sprintf("%-28s batch %3d  %.3g FLOPs/step  SGD %.2f ms  HGD %.2f ms (×%.3f)", net, n.batch, f, 1e3*sgd, 1e3*hg, hg/sgd)
		if base != nil {
			line += fmt.Sprintf("  baseline SGD %.2f ms (this build ×%.2f faster)", 1e3*base[i], base[i]/sgd)
		}
		fmt.Println(line)
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
	ev := median(evalPerFLOP)
	ratio := mean(hgdRatio)
	fmt.Printf("\nThis machine today: StepOverhead = %.4g s, StepPerFLOP = %.4g s, EvalPerFLOP = %.4g s (median of %d), HGD/SGD = %.4f (mean of %d)\n",
		a, b, ev, len(evalPerFLOP), ratio, len(hgdRatio))
	for _, p := range pts {
		fmt.Printf("  fit %.2f ms, measured %.2f ms\n", 1e3*(a+b*p.flops), 1e3*p.step)
	}
	if base == nil {
		return
	}
	m, err := reproduce.CostModelNamed(*baselineModel)
	if err != nil {
		fail(err)
	}
	var logScale, logSpeed float64
	for i, n := range nets {
		logScale += math.Log(m.Step(n.config(), n.batch, hgd.Momentum) / base[i])
		logSpeed += math.Log(base[i] / pts[i].step)
	}
	scale := math.Exp(logScale / k)
	fmt.Printf("\nThis build is ×%.3f faster than the baseline per step (geometric mean of %d networks).\n", math.Exp(logSpeed/k), len(nets))
	fmt.Printf("Model %s over the baseline's steps today: ×%.3f (geometric mean): the machine of that model was that much faster.\n", m.Name, scale)
	fmt.Printf("On %s's machine: StepOverhead = %.4g s, StepPerFLOP = %.4g s, EvalPerFLOP = %.4g s, HGD/SGD = %.4f\n",
		m.Name, a*scale, b*scale, ev*scale, ratio)
}

// timeEval returns the time of evaluating one image with t: the fastest of
// three evaluations after one that compiles the graph.
func timeEval(t *trainer.Trainer) float64 {
	if _, err := t.Evaluate(context.Background()); err != nil {
		fail(err)
	}
	best := 0.0
	for range 3 {
		start := time.Now()
		ev, err := t.Evaluate(context.Background())
		if err != nil {
			fail(err)
		}
		if s := time.Since(start).Seconds() / float64(ev.N); best == 0 || s < best {
			best = s
		}
	}
	return best
}

// stepLine is a network's line of this program's output.
var stepLine = regexp.MustCompile(`batch +(\d+) +(\S+) FLOPs/step +SGD ([0-9.]+) ms`)

// runBaseline runs another build of this program and returns its SGD step
// time of each network, checking that it measured the same networks.
func runBaseline(bin string, steps, repeats int) ([]float64, error) {
	cmd := exec.Command(bin, "-steps", strconv.Itoa(steps), "-repeats", strconv.Itoa(repeats))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("baseline %s: %w\n%s", bin, err, errOut.String())
	}
	fmt.Printf("baseline %s:\n%s\n", bin, out.String())
	matches := stepLine.FindAllStringSubmatch(out.String(), -1)
	if len(matches) != len(nets) {
		return nil, fmt.Errorf("baseline %s measured %d networks, want %d", bin, len(matches), len(nets))
	}
	var stepTimes []float64
	for i, m := range matches {
		batch, _ := strconv.Atoi(m[1])
		flops, err1 := strconv.ParseFloat(m[2], 64)
		ms, err2 := strconv.ParseFloat(m[3], 64)
		want := 3 * nets[i].config().FLOPs() * float64(nets[i].batch)
		if err1 != nil || err2 != nil || batch != nets[i].batch || math.Abs(flops-want) > 0.01*want {
			return nil, fmt.Errorf("baseline %s: network %d is %q, want batch %d and %.3g FLOPs/step", bin, i+1, m[0], nets[i].batch, want)
		}
		stepTimes = append(stepTimes, ms/1e3)
	}
	return stepTimes, nil
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func median(xs []float64) float64 {
	ys := slices.Clone(xs)
	slices.Sort(ys)
	return ys[len(ys)/2]
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "calibrate:", err)
	os.Exit(1)
}
