// Command lrprior measures what the SGD arm's learning-rate prior does in a
// reproduction's results folder: the share of SGD-arm trials that started
// with a learning rate below -below (default 1e-3), and the mean best
// validation accuracy of those trials and of the others.
//
//	go run ./scripts/lrprior docs/results/cpu-study-cifar10 docs/results/cpu-study-uniform-cifar10
//
// A trial's learning rate is the one of its first result (a PBT/PB2 exploit
// may change it later); its best accuracy is the best over all its results.
// Trials without a result are not counted.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/plots"
)

func main() {
	below := flag.Float64("below", 1e-3, "threshold of a low learning rate")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: lrprior [-below 1e-3] RESULTS_DIR...")
		os.Exit(2)
	}
	fmt.Println("| results folder | SGD-arm trials | α < threshold | mean best acc, α < threshold (95% CI) | mean best acc, others (95% CI) |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, dir := range flag.Args() {
		low, high, err := scan(dir, *below)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lrprior:", err)
			os.Exit(1)
		}
		n := len(low) + len(high)
		sl, _ := plots.Summarize(low, 0.95)
		sh, _ := plots.Summarize(high, 0.95)
		fmt.Printf("| %s | %d | %d (%.1f%%) | %.3f ± %.3f | %.3f ± %.3f |\n", dir, n, len(low), 100*float64(len(low))/float64(n),
			sl.Mean, sl.HalfWidth, sh.Mean, sh.HalfWidth)
	}
}

// scan returns the best accuracies of the SGD-arm trials of dir that
// started below the threshold and of the others.
func scan(dir string, below float64) (low, high []float64, err error) {
	runs, err := filepath.Glob(filepath.Join(dir, "runs", "*-sgd-s*"))
	if err != nil {
		return nil, nil, err
	}
	if len(runs) == 0 {
		return nil, nil, fmt.Errorf("%s: no SGD-arm runs (runs/*-sgd-s*)", dir)
	}
	for _, run := range runs {
		rep, err := hpo.LoadReport(run)
		if err != nil {
			return nil, nil, err
		}
		first := map[hpo.TrialID]float64{}
		best := map[hpo.TrialID]float64{}
		for _, r := range rep.Records {
			acc, ok := r.Metrics[rep.Metric.Name]
			if !ok || r.Status == hpo.Failed {
				continue
			}
			if _, seen := first[r.Trial]; !seen {
				lr, ok := r.Config[cnn.ParamLearningRate].(float64)
				if !ok {
					return nil, nil, fmt.Errorf("%s: trial %d has no %s", run, r.Trial, cnn.ParamLearningRate)
				}
				first[r.Trial], best[r.Trial] = lr, math.Inf(-1)
			}
			best[r.Trial] = math.Max(best[r.Trial], acc)
		}
		for id, lr := range first {
			if lr < below {
				low = append(low, best[id])
			} else {
				high = append(high, best[id])
			}
		}
	}
	return low, high, nil
}
