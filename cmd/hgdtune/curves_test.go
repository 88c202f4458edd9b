package main

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/reproduce"
)

// syntheticPool writes a pool of cpu-study's spaces with made-up curves
// (30 distinct configurations per arm) and returns its path.
func syntheticPool(t *testing.T) string {
	t.Helper()
	p := reproduce.Presets()["cpu-study"]
	p.Algorithms, p.Seeds, p.Budget, p.PoolSGD, p.PoolHGD = []string{reproduce.Recording}, 1, reproduce.Duration(reproduce.BudgetLimit), 30, 30
	c := &reproduce.Curves{Format: reproduce.CurvesFormat, Preset: p, TrainImages: 3500, EvalImages: 500, Arms: map[string][]reproduce.Member{}}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, arm := range []string{"sgd", "hgd"} {
		a := cnn.ArmSGD
		if arm == "hgd" {
			a = cnn.ArmHGD
		}
		space, err := p.Space(a)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for len(c.Arms[arm]) < 30 {
			cfg := space.Sample(rng)
			k, _ := json.Marshal(cfg)
			if seen[string(k)] {
				continue
			}
			seen[string(k)] = true
			q := 0.3 + 0.3*rng.Float64()
			m := reproduce.Member{Config: cfg}
			for e := 1; e <= p.MaxEpochs; e++ {
				m.Epochs = append(m.Epochs, reproduce.Epoch{Metrics: map[string]float64{"accuracy": q * (1 - math.Exp(-float64(e)/3))}})
			}
			c.Arms[arm] = append(c.Arms[arm], m)
		}
	}
	var buf bytes.Buffer
	if err := c.Write(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "curves.json")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A replay needs no data and no backend: it runs from the pool alone and
// writes the usual results folder, whose summary says it is a replay.
func TestReproduceReplay(t *testing.T) {
	pool := syntheticPool(t)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCmd(t, reproduceArgs(t, out, "-preset", "cpu-study", "-curves", pool, "-algorithms", "asha,hyperband",
		"-seeds", "5", "-time", "100s")...)
	if code != 0 {
		t.Fatalf("code %d:\n%s\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**a replay** of curve pool sha256:", "pair by its index only", "| ASHA |"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("summary.md lacks %q", want)
		}
	}
}

// What a pool cannot answer is refused before anything runs, saying why.
func TestReproduceReplayRefusals(t *testing.T) {
	pool := syntheticPool(t)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-algorithms", "pbt"}, 1, "change a trial's hyperparameters"},
		{[]string{"-algorithms", "genetic"}, 1, "not in the pool"},
		{[]string{"-train-images", "2000"}, 1, "train_images: pool 5000, replay 2000"},
		{[]string{"-max-epochs", "27"}, 1, "max_epochs"},
		{[]string{"-storage", "postgres://u:secret@localhost/db"}, 2, "-curves with -storage"},
	} {
		out := filepath.Join(t.TempDir(), "out")
		args := reproduceArgs(t, out, append([]string{"-preset", "cpu-study", "-curves", pool}, c.args...)...)
		code, _, stderr := runCmd(t, args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: code %d, want %d saying %q:\n%s", c.args, code, c.code, c.want, stderr)
		}
		if strings.Contains(stderr, "secret") {
			t.Errorf("%v: the password is printed:\n%s", c.args, stderr)
		}
	}
}

// curves targets writes its page and figures; curves without a known
// subcommand, or a recording of no configuration, is a usage error.
func TestCurvesCommands(t *testing.T) {
	pool := syntheticPool(t)
	out := t.TempDir()
	code, stdout, stderr := runCmd(t, "curves", "targets", "-curves", pool, "-seeds", "6", "-boot", "3", "-boot-seeds", "3",
		"-time", "100s", "-algorithms", "asha", "-out", out)
	if code != 0 {
		t.Fatalf("targets: code %d:\n%s\n%s", code, stdout, stderr)
	}
	for _, f := range []string{"targets-log.md", "log-reached.png", "log-anytime.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("targets wrote no %s: %v", f, err)
		}
	}
	for _, args := range [][]string{{"curves"}, {"curves", "replay"}, {"curves", "record", "-sgd", "0", "-hgd", "0"},
		{"curves", "record", "-workers", "3"}, {"curves", "targets"}, {"curves", "targets", "-curves", pool, "-targets", "1.5"}} {
		if code, _, stderr := runCmd(t, args...); code != 2 {
			t.Errorf("%v: code %d, want 2:\n%s", args, code, stderr)
		}
	}
}
