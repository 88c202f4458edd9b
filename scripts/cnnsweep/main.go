// Command cnnsweep compares HGD's hypergradient step sizes on the paper's
// case-1 CNN (conv 32/64/128, fc 256/128, batch 32) on CIFAR-10, at a fixed
// number of steps (so that the comparison does not depend on the machine's
// speed or load), against SGD+momentum with the same starting α and γ.
//
//	HGDTUNE_DATA=../shared/data GOEXPERIMENT=simd go run ./scripts/cnnsweep
//
// Every configuration starts from the same weights and batch order (seed).
// It prints, per configuration, the validation accuracy (first -eval-limit
// images of the 30% part) and α, γ at each evaluation.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hgd"
)

// setting is one optimizer setting of the sweep: "sgd" (SGD+momentum, the
// paper's SGD arm), or "hgd:β:η" with an optional ":norm" (the HGD arm at
// those hypergradient step sizes).
type setting struct {
	name       string
	kind       hgd.Kind
	beta, eta  float64
	normalized bool
}

func parseSetting(s string) (setting, error) {
	if s == "sgd" {
		return setting{name: s, kind: hgd.Momentum}, nil
	}
	parts := strings.Split(s, ":")
	if parts[0] != "hgd" || len(parts) < 3 {
		return setting{}, fmt.Errorf("configuration %q: want sgd or hgd:β:η[:norm]", s)
	}
	b, err1 := strconv.ParseFloat(parts[1], 64)
	e, err2 := strconv.ParseFloat(parts[2], 64)
	if err1 != nil || err2 != nil {
		return setting{}, fmt.Errorf("configuration %q: bad number", s)
	}
	st := setting{name: s, kind: hgd.HGD, beta: b, eta: e}
	st.normalized = len(parts) > 3 && parts[3] == "norm"
	return st, nil
}

func main() {
	dataDir := flag.String("data", os.Getenv(cifar.EnvData), "folder holding cifar-10-batches-bin/ (default $HGDTUNE_DATA)")
	steps := flag.Int("steps", 1500, "training steps per configuration")
	every := flag.Int("eval-every", 500, "evaluate every this many steps")
	evalLimit := flag.Int("eval-limit", 3000, "validation images per evaluation")
	lr := flag.Float64("lr", 0.01, "α (SGD) and α0 (HGD)")
	mom := flag.Float64("momentum", 0.9, "γ (SGD) and γ0 (HGD)")
	configs := flag.String("configs", "sgd,hgd:1e-4:1e-2,hgd:1e-5:1e-3,hgd:1e-3:1e-2,hgd:1e-4:0,hgd:0.01:0.01:norm",
		"configurations: sgd, or hgd:β:η[:norm] (norm: the multiplicative rule); β or η 0 means 0")
	flag.Parse()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "cnnsweep:", err)
		os.Exit(1)
	}
	ctx := context.Background()
	env, err := trainer.Setup{Data: cifar.Config{DataDir: *dataDir}}.Open(ctx)
	if err != nil {
		fail(err)
	}
	defer env.Close()
	net := cnn.Default(cnn.Case1)

	fmt.Printf("case-1 CNN (%s), batch 32, %d steps, α0 = %g, γ0 = %g, validation on %d images, %s\n\n",
		net, *steps, *lr, *mom, *evalLimit, env.Describe())
	fmt.Print("| configuration |")
	for s := *every; s <= *steps; s += *every {
		fmt.Printf(" acc @%d | α, γ @%d |", s, s)
	}
	fmt.Print("\n|---|")
	for s := *every; s <= *steps; s += *every {
		fmt.Print("---|---|")
	}
	fmt.Println()
	for _, c := range strings.Split(*configs, ",") {
		st, err := parseSetting(c)
		if err != nil {
			fail(err)
		}
		opt := hgd.Defaults(st.kind)
		opt.Alpha0, opt.Gamma0, opt.Normalized = *lr, *mom, st.normalized
		if st.kind == hgd.HGD {
			opt.Beta, opt.Eta = st.beta, st.eta
		}
		cfg := trainer.Config{Net: net, BatchSize: 32, Optimizer: opt, EvalLimit: *evalLimit}
		t, err := env.New(cfg)
		if err != nil {
			fail(err)
		}
		fmt.Printf("| %s |", st.name)
		for s := *every; s <= *steps; s += *every {
			res, err := t.Train(ctx, s)
			if err != nil {
				fmt.Printf(" failed: %v |", err)
				break
			}
			fmt.Printf(" %.4f | %.3g, %.3f |", res.Metrics[trainer.MetricAccuracy], res.Metrics[trainer.MetricAlpha], res.Metrics[trainer.MetricGamma])
		}
		fmt.Println()
		t.Close()
	}
}
