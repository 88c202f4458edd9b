package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runOf(set, start string, seed int, acc ...float64) Run {
	return Run{Setting: set, Start: start, Seed: seed, Acc: acc, StepsPerEpoch: 10, TraceEvery: 10,
		Trace: [][3]float64{{0, 0.01, 0.9}, {10, 0.02, 0.8}}}
}

// The tables pair seed k of a setting with seed k of SGD+momentum from the
// same start, count a diverged run as chance afterwards, and compute the
// interval and p of the differences.
func TestCompare(t *testing.T) {
	base := cell{0: runOf("sgd", "default", 0, 0.2, 0.3), 1: runOf("sgd", "default", 1, 0.2, 0.4), 2: runOf("sgd", "default", 2, 0.3, 0.5)}
	div := runOf("hgd", "default", 2, 0.4)
	div.Diverged = 15
	c := cell{0: runOf("hgd", "default", 0, 0.3, 0.4), 1: runOf("hgd", "default", 1, 0.25, 0.5), 2: div}
	col, err := compare(c, base, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Epoch 2: HGD 0.4, 0.5, 0.1 (diverged); differences +0.1, +0.1, −0.4.
	if math.Abs(col.Acc.Mean-1.0/3) > 1e-12 || col.Acc.N != 3 {
		t.Errorf("accuracy %+v", col.Acc)
	}
	if math.Abs(col.Diff.Mean-(-0.2/3)) > 1e-12 || col.Diff.N != 3 || !(col.P > 0.5) {
		t.Errorf("difference %+v p %v", col.Diff, col.P)
	}
	// A run still going (no epoch 2 yet, not diverged) is left out.
	c[2] = runOf("hgd", "default", 2, 0.4)
	col, _ = compare(c, base, 2)
	if col.Acc.N != 2 || col.Diff.N != 2 || math.Abs(col.Diff.Mean-0.1) > 1e-12 {
		t.Errorf("partial: %+v %+v", col.Acc, col.Diff)
	}
	// The best so far at epoch 2: HGD seeds reach 0.4, 0.5 and 0.4 (the
	// diverged one before it diverged); SGD 0.3, 0.4, 0.5.
	c[2] = div
	best, err := compareBy(c, base, 2, bestUpTo)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(best.Acc.Mean-(0.4+0.5+0.4)/3) > 1e-12 || math.Abs(best.Diff.Mean-(0.1+0.1-0.1)/3) > 1e-12 {
		t.Errorf("best so far %+v, difference %+v", best.Acc, best.Diff)
	}
	if got := checkpoints(20); len(got) != 3 || got[2] != 20 {
		t.Errorf("checkpoints(20) = %v", got)
	}
	if got := checkpoints(3); len(got) != 2 || got[1] != 3 {
		t.Errorf("checkpoints(3) = %v", got)
	}
}

// The summary and figures are written from the runs; a folder made with
// another protocol is refused.
func TestSummaryAndProtocol(t *testing.T) {
	dir := t.TempDir()
	p := protocol{trainImages: 500, epochs: 2, batch: 32, evalLimit: 100, traceEvery: 10, seeds: 2, conv: [3]int{8, 16, 16}, fc: [2]int{32, 16}}
	if err := checkProtocol(dir, p); err != nil {
		t.Fatal(err)
	}
	if err := checkProtocol(dir, p); err != nil {
		t.Errorf("same protocol refused: %v", err)
	}
	q := p
	q.epochs = 3
	if err := checkProtocol(dir, q); err == nil || !strings.Contains(err.Error(), "another protocol") {
		t.Errorf("other protocol: %v", err)
	}
	if got, err := readProtocol(dir); err != nil || got.json() != p.json() {
		t.Errorf("readProtocol %+v, %v", got, err)
	}
	var runs []Run
	for seed := range 2 {
		runs = append(runs, runOf("sgd", "default", seed, 0.2, 0.3), runOf("hgd", "default", seed, 0.3, 0.35+0.01*float64(seed)))
	}
	if err := writeSummary(dir, p, runs); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### Start default", "| hgd | 2 | 30.0 ± 0.0 | +10.0 ± 0.0 |", "acc @2 ep", "best ≤ 2 ep"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	for _, f := range []string{"accuracy.png", "alpha.png", "gamma.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestPlan(t *testing.T) {
	jobs, err := plan("", "", 3)
	if err != nil {
		t.Fatal(err)
	}
	// 8 settings with momentum × 5 starts + 2 without × 3 starts, 3 seeds.
	if len(jobs) != (8*5+2*3)*3 {
		t.Errorf("%d jobs", len(jobs))
	}
	for _, j := range jobs {
		if j.st.Gamma && !j.set.UsesGamma {
			t.Errorf("%s from %s", j.set.Name, j.st.Name)
		}
	}
	if _, err := plan("hgd,nope", "", 1); err == nil {
		t.Error("unknown setting accepted")
	}
}
