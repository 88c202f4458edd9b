package reproduce

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/pgstore"
	"github.com/hgdtune/hgdtune/internal/pgtest"
	"github.com/hgdtune/hgdtune/internal/testkit"
)

// tinyPreset is cpu-quick shrunk to seconds of a tiny real CNN on compute
// time: one seed, T = 1.5 s, 300 images, 3 epochs, narrow widths.
func tinyPreset(algorithms ...string) Preset {
	p := Presets()["cpu-quick"]
	p.Algorithms = algorithms
	p.Budget = Duration(1500 * time.Millisecond)
	p.Seeds, p.TrainImages, p.MaxEpochs = 1, 300, 3
	p.MaxConv, p.MaxFC1, p.MaxFC2 = 4, 128, 32
	return p
}

// killPreset is the reproduction of TestKillSharedCNN: PBT in both arms.
func killPreset() Preset { return tinyPreset(PBT) }

func killData() *cifar.Dataset { return toyDataset(400) }

// TestSharedProcess is a process of TestKillSharedCNN: the reproduction's
// runner (trials trained by workers) or a worker that also takes over
// runs, until it ends or is killed.
func TestSharedProcess(t *testing.T) {
	url := os.Getenv("REPRODUCE_KILL_PG")
	if url == "" {
		t.Skip("only run as a process of TestKillSharedCNN")
	}
	be := backendtest.Go(t)
	ctx := context.Background()
	switch os.Getenv("REPRODUCE_KILL_ROLE") {
	case "runner":
		_, err := Run(ctx, Options{Preset: killPreset(), Dir: os.Getenv("REPRODUCE_KILL_DIR"), Data: killData(), Backend: be, BackendSpec: "go",
			Name: "killed", Remote: true, Wait: 100 * time.Millisecond,
			Shared: func(ctx context.Context, name string, settings []byte) (SharedRun, error) {
				return pgstore.Open(ctx, url, name, settings, pgstore.LeaseTTL(time.Second), pgstore.Poll(50*time.Millisecond))
			}})
		if err != nil {
			t.Fatal(err)
		}
	case "worker":
		w := &pgstore.Worker{Own: true, LeaseTTL: time.Second, Poll: 50 * time.Millisecond, Log: os.Stderr,
			Lookup: Lookup(LookupOptions{Backend: be, BackendSpec: "go",
				Load: func(context.Context, string) (*cifar.Dataset, error) { return killData(), nil }})}
		if err := w.Run(ctx, url); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKillSharedCNN runs a reproduction (a tiny real CNN, PBT in both
// arms) whose trials three worker processes train, kills the runner and
// the workers with SIGKILL at random moments (restarting each), and
// requires the results folder that the restarted runner writes to equal,
// bit for bit, that of the same reproduction run in one process on a
// folder.
func TestKillSharedCNN(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for tens of seconds")
	}
	url := pgtest.DB(t)
	ref := t.TempDir()
	if _, err := Run(context.Background(), Options{Preset: killPreset(), Dir: ref, Data: killData(),
		Backend: backendtest.Go(t), BackendSpec: "go"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	logs := t.TempDir()
	n := 0
	start := func(role string) *exec.Cmd {
		n++
		return testkit.StartChild(t, "TestSharedProcess", filepath.Join(logs, fmt.Sprintf("%02d-%s.log", n, role)),
			"REPRODUCE_KILL_PG="+url, "REPRODUCE_KILL_ROLE="+role, "REPRODUCE_KILL_DIR="+dir)
	}
	runner := start("runner")
	workers := []*exec.Cmd{start("worker"), start("worker"), start("worker")}
	done := make(chan error, 1)
	wait := func(c *exec.Cmd) { go func() { done <- c.Wait() }() }
	defer func() {
		for _, w := range workers {
			w.Process.Kill()
			w.Wait()
		}
		if t.Failed() {
			files, _ := filepath.Glob(filepath.Join(logs, "*.log"))
			for _, f := range files {
				b, _ := os.ReadFile(f)
				t.Logf("%s:\n%s", filepath.Base(f), b)
			}
		}
	}()
	rng := rand.New(rand.NewPCG(3, 4))
	kills := 0
	// Kill the runner once, early, and a worker every so often; the
	// runner that replaces it finishes the reproduction.
	time.Sleep(time.Duration(500+rng.IntN(1000)) * time.Millisecond) // a random moment, not a wait for anything
	runner.Process.Signal(syscall.SIGKILL)
	runner.Wait()
	kills++
	runner = start("runner")
	wait(runner)
	deadline := time.After(5 * time.Minute)
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("the runner failed: %v", err)
			}
			if kills < 4 {
				t.Fatalf("only %d kills before the end: too short to test anything", kills)
			}
			sameResultsResumed(t, ref, dir)
			t.Logf("%d kills (the runner once, workers %d times): the results equal a single process's", kills, kills-1)
			return
		case <-deadline:
			t.Fatalf("not done in 5 minutes (%d kills)", kills)
		case <-time.After(time.Duration(400+rng.IntN(800)) * time.Millisecond):
			if kills >= 7 {
				continue
			}
			i := rng.IntN(len(workers))
			workers[i].Process.Signal(syscall.SIGKILL)
			workers[i].Wait()
			workers[i] = start("worker")
			kills++
		}
	}
}

// sameResultsResumed is sameResults for a folder whose runs were killed
// and resumed: their journals hold "resume" notes and so other sequence
// numbers, which are left out of the comparison; everything else must be
// equal.
func sameResultsResumed(t *testing.T, a, b string) {
	t.Helper()
	norm := func(dir string) {
		runs, _ := filepath.Glob(filepath.Join(dir, "runs", "*", "journal.jsonl"))
		for _, p := range runs {
			events, _, err := hpo.ReadJournal(p)
			if err != nil {
				t.Fatal(err)
			}
			var kept []hpo.Event
			for _, e := range events {
				if e.Kind != hpo.EvResume {
					e.Seq, e.Time = 0, time.Time{}
					kept = append(kept, e)
				}
			}
			var buf bytes.Buffer
			if err := hpo.WriteJournal(&buf, kept); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	ca, cb := copyTree(t, a), copyTree(t, b)
	norm(ca)
	norm(cb)
	sameResults(t, ca, cb)
}

// copyTree copies the regular files of dir into a new folder.
func copyTree(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(out, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(out, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
