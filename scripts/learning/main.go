// Command learning is the "real learning" check of the case-1 CNN on
// CIFAR-10: it trains the network for a fixed wall-clock time with
// SGD+momentum and with HGD, one after the other on the same machine, and
// prints the validation accuracy over time.
//
//	HGDTUNE_DATA=../shared/data GOEXPERIMENT=simd go run ./scripts/learning           # 5 min each
//	HGDTUNE_DATA=../shared/data GOEXPERIMENT=simd go run ./scripts/learning -time 1m
//
// Protocol: the paper's 70/30 class-stratified split of the 50,000 training
// images (seed 0), per-channel normalization from the training part, conv
// 32/64/128, fc 256/128, batch 32, no augmentation. SGD+momentum uses
// -lr/-momentum (default 0.01/0.9); HGD starts from the same values and
// adapts them with its default β and η. Evaluation (every -eval-every of
// training time, on the first -eval-limit validation images) is not counted
// in the training time.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hgd"
)

type point struct {
	t          time.Duration
	steps      int
	acc        float64
	alpha, gam float64
}

func main() {
	dataDir := flag.String("data", os.Getenv(cifar.EnvData), "folder holding cifar-10-batches-bin/ (default $HGDTUNE_DATA)")
	budget := flag.Duration("time", 5*time.Minute, "training time per optimizer")
	every := flag.Duration("eval-every", 30*time.Second, "evaluate after every this much training time")
	evalLimit := flag.Int("eval-limit", 5000, "validation images per evaluation (0: all 15,000)")
	batch := flag.Int("batch", 32, "batch size")
	lr := flag.Float64("lr", 0.01, "SGD learning rate, and HGD's initial α")
	mom := flag.Float64("momentum", 0.9, "SGD momentum, and HGD's initial γ")
	opts := flag.String("optimizers", "sgd,hgd", "optimizers to run, in order")
	seed := flag.Uint64("seed", 0, "seed")
	flag.Parse()

	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "learning:", err)
		os.Exit(1)
	}
	ctx := context.Background()
	env, err := trainer.Setup{Data: cifar.Config{DataDir: *dataDir}, Split: cifar.SplitConfig{Seed: *seed}}.Open(ctx)
	if err != nil {
		fail(err)
	}
	defer env.Close()
	data := env.Data
	net := cnn.Default(cnn.Case1)

	names := strings.Split(*opts, ",")
	curves := make([][]point, len(names))
	for i, name := range names {
		kind := hgd.HGD
		if name == "sgd" {
			kind = hgd.Momentum
		} else if name != "hgd" {
			fail(fmt.Errorf("unknown optimizer %q", name))
		}
		opt := hgd.Defaults(kind)
		opt.Alpha0, opt.Gamma0 = *lr, *mom
		t, err := env.New(trainer.Config{Net: net, BatchSize: *batch, Optimizer: opt,
			Seed: *seed, EvalLimit: *evalLimit})
		if err != nil {
			fail(err)
		}
		var trained time.Duration
		next := *every
		fmt.Fprintf(os.Stderr, "%s: training for %v on %s\n", name, *budget, env.Describe())
		for trained < *budget {
			start := time.Now()
			if _, err := t.Step(); err != nil {
				fail(err)
			}
			trained += time.Since(start)
			if trained >= next || trained >= *budget {
				e, err := t.Evaluate(ctx)
				if err != nil {
					fail(err)
				}
				p := point{trained, t.Steps(), e.Accuracy, t.Alpha(), t.Gamma()}
				curves[i] = append(curves[i], p)
				fmt.Fprintf(os.Stderr, "  %6.0fs  step %6d  val acc %.4f  α %.4g  γ %.4f\n", p.t.Seconds(), p.steps, p.acc, p.alpha, p.gam)
				next += *every
			}
		}
		t.Close()
	}

	evaluated := data.Val.Len()
	if *evalLimit > 0 {
		evaluated = min(*evalLimit, evaluated)
	}
	fmt.Printf("case-1 CNN (%s), batch %d, CIFAR-10 70/30 split, validation accuracy on %d images, %s\n\n",
		net, *batch, evaluated, env.Describe())
	fmt.Print("| training time (s) |")
	for _, n := range names {
		fmt.Printf(" %s steps | %s val acc | %s α | %s γ |", n, n, n, n)
	}
	fmt.Print("\n|---|")
	for range names {
		fmt.Print("---|---|---|---|")
	}
	fmt.Println()
	for j := range curves[0] {
		fmt.Printf("| %.0f |", curves[0][j].t.Seconds())
		for i := range names {
			if j < len(curves[i]) {
				p := curves[i][j]
				fmt.Printf(" %d | %.4f | %.4g | %.4f |", p.steps, p.acc, p.alpha, p.gam)
			} else {
				fmt.Print(" | | | |")
			}
		}
		fmt.Println()
	}
}
