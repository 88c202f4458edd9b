package reproduce

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// summarizeCopy summarizes a copy of a committed results folder and
// returns its summary.md.
func summarizeCopy(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "docs", "results", name))); err != nil {
		t.Fatal(err)
	}
	if _, err := Summarize(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A summary of two seeds says first, before any table, that they cannot
// separate the arms and where the study that can is.
func TestSummaryFewSeeds(t *testing.T) {
	md := summarizeCopy(t, "cpu-quick-cifar10")
	warn := strings.Index(md, "**2 seeds cannot separate the arms**")
	table := strings.Index(md, "| algorithm |")
	if warn < 0 || table < 0 || warn > table || !strings.Contains(md, "-preset cpu-study") {
		t.Errorf("summary of 2 seeds:\n%s", md)
	}
}

// A study's summary gives the paired differences in points, the log
// ratios, Holm-adjusted p-values with a verdict, the detectable
// differences, and leads over distinct comparisons labelled with the data
// set; the descriptive table keeps the paper's format beside the paper.
func TestSummaryStatistics(t *testing.T) {
	md := summarizeCopy(t, "cpu-study-cifar10")
	for _, want := range []string{
		"Δ points [95% CI]", "geometric-mean gain [95% CI]", "p Holm (paired t)", "detectable Δ points (80% power)",
		"After Holm's correction over the 12 comparisons", "With 10 pairs, a difference at 16 s is detected with 80% power only if",
		"distinct comparisons (CIFAR-10 only)", "hold identical per-seed values", "Trials reported per run (SGD / HGD)",
		"(0.5164)", "ratio of means",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	if strings.Contains(md, "cannot separate the arms") {
		t.Error("a 10-seed study says its seeds cannot separate the arms")
	}
}
