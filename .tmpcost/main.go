package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/reproduce"
)

// Builds a provisional pool from the SGD run's completed trials (the HGD arm
// pretends to be the same networks) to size T; not committed.
func main() {
	dir := os.Args[1]
	p := reproduce.Presets()["cpu-study"]
	space, _ := p.Space(cnn.ArmSGD)
	rep, err := hpo.LoadReportSpace(filepath.Join(dir, "runs", "curves-sgd-s0"), space)
	if err != nil {
		panic(err)
	}
	m, _ := reproduce.CostModelNamed("")
	var sgd, hgd []reproduce.Member
	for _, t := range rep.Trials {
		if t.Status != hpo.Completed {
			continue
		}
		mb := reproduce.Member{Config: t.Config}
		for _, r := range t.Results {
			mb.Epochs = append(mb.Epochs, reproduce.Epoch{Metrics: r.Metrics})
		}
		sgd = append(sgd, mb)
		h := mb
		h.Config = hpo.Config{}
		for k, v := range t.Config {
			if k != "learning_rate" && k != "momentum" {
				h.Config[k] = v
			}
		}
		hgd = append(hgd, h)
	}
	_ = m
	p.Algorithms, p.Seeds, p.Budget, p.PoolSGD, p.PoolHGD = []string{reproduce.Recording}, 1, reproduce.Duration(reproduce.BudgetLimit), len(sgd), len(hgd)
	c := &reproduce.Curves{Format: reproduce.CurvesFormat, Preset: p, TrainImages: 3500, EvalImages: 500, Arms: map[string][]reproduce.Member{"sgd": sgd, "hgd": hgd}}
	var b bytes.Buffer
	c.Write(&b)
	os.WriteFile(os.Args[2], b.Bytes(), 0o644)
	fmt.Println(len(sgd), "members")
}
