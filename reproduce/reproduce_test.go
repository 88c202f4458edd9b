package reproduce

import (
	"context"
	"errors"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/plots"
)

func TestPresetsValid(t *testing.T) {
	for name, p := range Presets() {
		if err := p.Validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
		if p.Name != name {
			t.Errorf("preset %s is named %q", name, p.Name)
		}
		for _, arm := range []cnn.Arm{cnn.ArmSGD, cnn.ArmHGD} {
			if _, err := p.Space(arm); err != nil {
				t.Errorf("preset %s, arm %v: %v", name, arm, err)
			}
		}
	}
	paper := Presets()["paper"]
	if time.Duration(paper.Budget) != 3000*time.Second || paper.Seeds != 5 || paper.TrainImages != 0 ||
		paper.MaxConv != 0 || len(paper.Algorithms) != 6 {
		t.Errorf("the paper preset departs from the paper: %+v", paper)
	}
}

func TestPresetValidate(t *testing.T) {
	good := Presets()["cpu-quick"]
	for name, mutate := range map[string]func(*Preset){
		"dataset":   func(p *Preset) { p.Dataset = "mnist" },
		"budget":    func(p *Preset) { p.Budget = 0 },
		"seeds":     func(p *Preset) { p.Seeds = 0 },
		"slots":     func(p *Preset) { p.Slots = 0 },
		"algorithm": func(p *Preset) { p.Algorithms = []string{"asha", "bohb"} },
		"duplicate": func(p *Preset) { p.Algorithms = []string{"asha", "asha"} },
		"arm":       func(p *Preset) { p.Arms = []string{"adam"} },
		"eta":       func(p *Preset) { p.Eta = 1 },
		"images":    func(p *Preset) { p.TrainImages = 10 },
		"perturb":   func(p *Preset) { p.PerturbEvery = p.MaxEpochs + 1 },
		"budget<0":  func(p *Preset) { p.Budget = -1 },
		"budget>":   func(p *Preset) { p.Budget = Duration(BudgetLimit + time.Second) },
		"seeds<0":   func(p *Preset) { p.Seeds = -1 },
		"seeds>":    func(p *Preset) { p.Seeds = 99999999999 },
		"slots>":    func(p *Preset) { p.Slots = SlotsLimit + 1 },
		"epochs":    func(p *Preset) { p.MaxEpochs = 0 },
		"epochs>":   func(p *Preset) { p.MaxEpochs = EpochsLimit + 1 },
		"images>":   func(p *Preset) { p.TrainImages = ImagesLimit + 1 },
	} {
		p := good
		p.Algorithms = append([]string(nil), good.Algorithms...)
		mutate(&p)
		if err := p.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Validate = %v, want ErrConfig", name, err)
		}
	}
}

func TestPresetDiff(t *testing.T) {
	a := Presets()["cpu-quick"]
	if d := a.Diff(a); len(d) != 0 {
		t.Errorf("a preset differs from itself: %v", d)
	}
	b := a
	b.Seeds, b.Budget, b.Arms, b.PBTResetAdapted = 3, Duration(time.Minute), []string{"hgd"}, true
	want := []string{"budget: 15s → 1m0s", "seeds: 2 → 3", "arms: sgd,hgd → hgd", "pbt_reset_adapted: false → true"}
	if got := a.Diff(b); strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("Diff = %q, want %q", got, want)
	}
}

func TestSpaceCaps(t *testing.T) {
	p := Presets()["cpu-quick"]
	s, err := p.Space(cnn.ArmSGD)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for range 300 {
		c := s.Sample(r)
		for _, k := range []string{cnn.ParamConv1, cnn.ParamConv2, cnn.ParamConv3} {
			if c.Int(k) > p.MaxConv {
				t.Fatalf("%s = %d > %d", k, c.Int(k), p.MaxConv)
			}
		}
		if c.Int(cnn.ParamFC1) > p.MaxFC1 || c.Int(cnn.ParamFC2) > p.MaxFC2 {
			t.Fatalf("fc widths %v", c)
		}
		if b := c.Int(cnn.ParamBatchSize); b < p.MinBatch || b > p.MaxBatch {
			t.Fatalf("batch %d", b)
		}
		if _, err := cnn.FromConfig(cnn.Case1, cnn.ArmSGD, c); err != nil {
			t.Fatal(err)
		}
	}
	hgd, _ := p.Space(cnn.ArmHGD)
	if len(hgd) != len(s)-2 {
		t.Errorf("HGD space has %d parameters, SGD %d", len(hgd), len(s))
	}
	p.MaxConv = 2 // below every Table 2 width
	if _, err := p.Space(cnn.ArmSGD); !errors.Is(err, ErrConfig) {
		t.Errorf("empty domain: %v", err)
	}
}

func toyDataset(n int) *cifar.Dataset { return cifar.Synthetic(n, 10, 3) }

// A tiny experiment end to end: runs, results files, figures that decode,
// a table with every algorithm, resume without retraining, and a refused
// folder of another preset.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for several seconds")
	}
	be := backendtest.Go(t)
	p := Presets()["cpu-quick"]
	p.Algorithms = PaperAlgorithms()
	p.Budget = Duration(1200 * time.Millisecond)
	p.Seeds = 1
	p.TrainImages = 300
	p.MaxEpochs = 3
	p.MaxConv, p.MaxFC1, p.MaxFC2 = 4, 128, 32
	dir := t.TempDir()
	rec := &recorder{}
	o := Options{Preset: p, Dir: dir, Data: toyDataset(400), Backend: be, BackendSpec: "go", Observer: rec}
	s, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if s.Trials == 0 {
		t.Fatal("no trials")
	}
	for _, alg := range []string{"ASHA", "AHB", "Genetic", "HyperBand", "PBT", "PB2"} {
		if _, ok := s.Table.Row(alg); !ok {
			t.Errorf("table lacks %s", alg)
		}
	}
	for _, f := range []string{"config.json", "summary.md", "table.tex", "curves.png", "curves.svg", "bars.png",
		"runs/asha-sgd-s0/journal.jsonl", "runs/asha-hgd-s0/results.csv", "runs/hyperband-hgd-s0/results.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	f, err := os.Open(filepath.Join(dir, "curves.png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(f); err != nil {
		t.Errorf("curves.png: %v", err)
	}
	f.Close()
	md, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	for _, want := range []string{"backend: go (", "scalings: first 300 training images", "SGD learning rate log-uniform on [1e-5, 0.2]", "| ASHA |", "(0.7986)",
		"p Holm (paired t)", "Seed k of both arms is a pair", "Clopper–Pearson", "seeds cannot separate the arms"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("summary.md lacks %q", want)
		}
	}
	if n := len(rec.ended); n != 12 || rec.ended[11].run.ID.String() != "pb2-hgd-s0" || rec.ended[11].run.Total != 12 || rec.ended[11].err != nil {
		t.Errorf("observer: %d runs ended, the last %+v", n, rec.ended[n-1].run)
	}

	// Resume: nothing trains again (no new result in any journal), the
	// table is the same.
	s2, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Results.Results != s.Results.Results || s2.Trials != s.Trials {
		t.Errorf("resuming a finished experiment added results or trials: %d/%d results, %d/%d trials",
			s2.Results.Results, s.Results.Results, s2.Trials, s.Trials)
	}
	if s2.Table.Markdown() != s.Table.Markdown() {
		t.Errorf("resumed table differs:\n%s\nvs\n%s", s2.Table.Markdown(), s.Table.Markdown())
	}

	// Another preset in the same folder is refused before anything runs.
	o.Preset.Seeds = 2
	if _, err := Run(context.Background(), o); !errors.Is(err, ErrConfig) {
		t.Errorf("other preset in the same folder: %v", err)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	p := Presets()["cpu-quick"]
	if _, err := Run(context.Background(), Options{Preset: p}); !errors.Is(err, ErrConfig) {
		t.Errorf("missing data/backend/dir: %v", err)
	}
	be := backendtest.Go(t)
	p.Dataset = "cifar100" // 100 classes, the toy set has 10
	_, err := Run(context.Background(), Options{Preset: p, Dir: t.TempDir(), Data: toyDataset(200), Backend: be, BackendSpec: "go"})
	if !errors.Is(err, ErrConfig) {
		t.Errorf("class mismatch: %v", err)
	}
}

// ASHA and Async Hyperband run in one form, the stopping form by default,
// so that their columns differ only in the number of brackets; the preset
// can ask for the promotion form for both.
func TestASHAAndAHBShareTheirForm(t *testing.T) {
	space := hpo.Space{{Name: "x", Domain: hpo.Float{Low: 0, High: 1}}}
	for _, c := range []struct {
		mode string
		want asha.Mode
	}{{"", asha.Stopping}, {"stopping", asha.Stopping}, {"promotion", asha.Promotion}} {
		p := Presets()["cpu-quick"]
		p.ASHAMode = c.mode
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		for _, alg := range []string{ASHA, AHB} {
			s, _, err := scheduler(p, alg, space, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.(*asha.Scheduler).Mode(); got != c.want {
				t.Errorf("mode %q: %s runs in %v form, want %v", c.mode, alg, got, c.want)
			}
		}
	}
	p := Presets()["cpu-quick"]
	p.ASHAMode = "sideways"
	if err := p.Validate(); err == nil {
		t.Error("asha mode \"sideways\" accepted")
	}
}

// The paper's algorithms are listed once (plots.PaperAlgorithms): the keys
// are its names in lower case, in its column order, and map back to them.
func TestAlgorithmKeys(t *testing.T) {
	want := []string{ASHA, AHB, Genetic, HyperBand, PBT, PB2}
	got := PaperAlgorithms()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("PaperAlgorithms() = %v, want %v", got, want)
	}
	for i, k := range got {
		if d := displayName(k); d != plots.PaperAlgorithms()[i] {
			t.Errorf("displayName(%q) = %q, want %q", k, d, plots.PaperAlgorithms()[i])
		}
	}
	if displayName(Random) != "Random" {
		t.Errorf("displayName(random) = %q", displayName(Random))
	}
}

// Summarize writes an old results folder's summary again from its journals
// (here a copy of the committed cpu-quick run): the new summary has the
// paired comparison, nothing is trained, and the folder's journals are
// untouched.
func TestSummarizeOldFolder(t *testing.T) {
	src := "../docs/results/cpu-quick-cifar10"
	if _, err := os.Stat(src); err != nil {
		t.Skip("no committed results folder")
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "runs", "asha-sgd-s0", "journal.jsonl"))
	s, err := Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	if !strings.Contains(string(md), "**Paired comparison, HGD − SGD, seed by seed**") || s.Runs != 24 {
		t.Errorf("summary.md lacks the paired comparison (runs %d):\n%s", s.Runs, md)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "runs", "asha-sgd-s0", "journal.jsonl"))
	if string(before) != string(after) {
		t.Error("Summarize changed a journal")
	}
}
