package nbkit

import (
	"bytes"
	"context"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/hgdtune/hgdtune/cifar"
)

// The committed CPU run: its table, rebuilt from the journals, must agree
// with the summary.md that package reproduce wrote from its reports.
func TestLoadResultsMatchesSummary(t *testing.T) {
	const dir = "../../docs/results/cpu-quick-cifar10"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no committed results folder:", err)
	}
	r, err := LoadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Preset != "cpu-quick" || r.Dataset != "cifar10" || r.Seeds != 2 || r.Budget.Seconds() != 15 {
		t.Fatalf("config: %+v", r)
	}
	if r.Runs != 24 || len(r.Experiment.Runs) != 24 || r.Trials == 0 {
		t.Fatalf("%d runs, %d trials", r.Runs, r.Trials)
	}
	if len(r.Trajectories) == 0 {
		t.Fatal("no HGD trajectories")
	}
	tab, err := r.Table()
	if err != nil {
		t.Fatal(err)
	}
	summary, err := os.ReadFile(dir + "/summary.md")
	if err != nil {
		t.Fatal(err)
	}
	md := tab.Markdown()
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| ASHA") || strings.HasPrefix(line, "| mean") || strings.HasPrefix(line, "| PB2") {
			if !strings.Contains(string(summary), line) {
				t.Errorf("row not in summary.md:\n%s", line)
			}
		}
	}
}

func TestDataSmallFallsBackToSynthetic(t *testing.T) {
	t.Setenv(cifar.EnvData, t.TempDir())
	t.Setenv("HGDTUNE_CACHE", t.TempDir())
	t.Setenv(EnvSmall, "1")
	d, desc, err := Data(context.Background(), cifar.CIFAR100Train, 300)
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 300 || len(d.Classes) != 100 || !strings.Contains(desc, "SYNTHETIC") {
		t.Fatalf("%d images, %d classes: %s", d.N, len(d.Classes), desc)
	}
	t.Setenv(EnvSmall, "")
	if _, _, err := Data(context.Background(), cifar.CIFAR100Train, 300); err == nil {
		t.Fatal("no error outside small mode without data")
	}
}

func TestPNG(t *testing.T) {
	a, b := NewPlot("a", "x", "y"), NewPlot("b", "x", "y")
	if err := Line(a, "sin", Seq(10), []float64{0, 1, 2, 3, math.NaN(), 5, 6, 7, 8, 9}, 0, false); err != nil {
		t.Fatal(err)
	}
	if err := Line(b, "", Seq(3), []float64{1, 2, 3}, 1, true); err != nil {
		t.Fatal(err)
	}
	raw, err := PNG(4, 3, 2, a, b)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 768 || h != 288 {
		t.Fatalf("size %d×%d", w, h)
	}
}
