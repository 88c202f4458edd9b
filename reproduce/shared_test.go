package reproduce

import (
	"context"
	"errors"
	"fmt"
	"github.com/gomlx/compute"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/hpo/pgstore"
	"github.com/hgdtune/hgdtune/internal/pgtest"
)

// A reproduction kept in PostgreSQL gives the results of the same
// reproduction in a folder, bit for bit (compute clock, a real small CNN):
// run by two processes at once that share its runs, and with its trials
// trained by a worker (Options.Remote). Both processes' folders end up
// with every run's results and the same summary.
func TestRunShared(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for several seconds")
	}
	url := pgtest.DB(t)
	be := backendtest.Go(t)
	p := tinyPreset(ASHA, PBT)
	data := toyDataset(400)
	shared := sharedOpener(url)
	run := func(name string, remote bool) string {
		dir := t.TempDir()
		o := Options{Preset: p, Dir: dir, Data: data, Backend: be, BackendSpec: "go", Name: name, Remote: remote, Wait: 50 * time.Millisecond}
		if name != "" {
			o.Shared = shared
		}
		if _, err := Run(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	ref := run("", false)

	t.Run("two processes", func(t *testing.T) {
		var wg sync.WaitGroup
		dirs := make([]string, 2)
		for i := range dirs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dirs[i] = run("shared", false)
			}()
		}
		wg.Wait()
		for _, d := range dirs {
			sameResults(t, ref, d)
		}
	})

	t.Run("workers", func(t *testing.T) {
		startWorker(t, url, be, data)
		sameResults(t, ref, run("remote", true))
	})

	t.Run("other settings", func(t *testing.T) {
		// Refused naming the field, before the folder gets a config.json
		// that would then refuse the right settings.
		q := p
		q.Budget = Duration(time.Second)
		dir := t.TempDir()
		_, err := Run(context.Background(), Options{Preset: q, Dir: dir, Data: data, Backend: be, BackendSpec: "go",
			Name: "shared", Shared: shared})
		if !errors.Is(err, pgstore.ErrSettingsMismatch) || !strings.Contains(err.Error(), `preset.budget: "1.5s" → "1s"`) {
			t.Fatalf("the same name with another budget: %v, want ErrSettingsMismatch naming the budget", err)
		}
		if strings.Contains(err.Error(), `"algorithms"`) {
			t.Errorf("the error dumps the stored settings: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
			t.Error("the refused run wrote config.json")
		}
		// -workers changes the wall time only: no difference.
		w := p
		w.Workers = 1
		if _, err := Run(context.Background(), Options{Preset: w, Dir: dir, Data: data, Backend: be, BackendSpec: "go",
			Name: "shared", Shared: shared, Wait: 50 * time.Millisecond}); err != nil {
			t.Errorf("the same reproduction with -workers 1: %v", err)
		}
	})
}

// A curve pool is recorded through a shared storage like any reproduction,
// its configurations trained by a worker, and gives the pool that a
// recording in a folder gives.
func TestRecordShared(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a tiny CNN pool")
	}
	url := pgtest.DB(t)
	be := backendtest.Go(t)
	data := toyDataset(400)
	p := tinyPreset(Recording)
	p.PoolSGD, p.PoolHGD, p.Budget = 3, 2, Duration(BudgetLimit)
	local, err := Record(context.Background(), Options{Preset: p, Dir: t.TempDir(), Data: data, Backend: be, BackendSpec: "go"})
	if err != nil {
		t.Fatal(err)
	}
	startWorker(t, url, be, data)
	remote, err := Record(context.Background(), Options{Preset: p, Dir: t.TempDir(), Data: data, Backend: be, BackendSpec: "go",
		Name: "pool", Shared: sharedOpener(url), Remote: true, Wait: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if remote.ID() != local.ID() {
		t.Errorf("the pool recorded by a worker is %s, in a folder %s", remote.ID(), local.ID())
	}
}

// sharedOpener is Options.Shared for the database at url, as the command
// line makes it: a settings mismatch is ErrSharedSettings.
func sharedOpener(url string) func(context.Context, string, []byte) (SharedRun, error) {
	return func(ctx context.Context, name string, settings []byte) (SharedRun, error) {
		st, err := pgstore.Open(ctx, url, name, settings, pgstore.Poll(50*time.Millisecond))
		if errors.Is(err, pgstore.ErrSettingsMismatch) {
			return nil, fmt.Errorf("%w: %w", ErrSharedSettings, err)
		}
		return st, err
	}
}

// startWorker runs a worker (2 slots) on the database at url, training on
// data with backend be, until the test ends.
func startWorker(t *testing.T, url string, be compute.Backend, data *cifar.Dataset) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	w := &pgstore.Worker{Slots: 2, Poll: 50 * time.Millisecond, Lookup: Lookup(LookupOptions{Backend: be, BackendSpec: "go",
		Load: func(context.Context, string) (*cifar.Dataset, error) { return data, nil }})}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := w.Run(ctx, url); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
}
