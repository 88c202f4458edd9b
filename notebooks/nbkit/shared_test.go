package nbkit

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/hpo/pgstore"
	"github.com/hgdtune/hgdtune/internal/pgtest"
	"github.com/hgdtune/hgdtune/reproduce"
)

// A reproduction kept in PostgreSQL reads back from the database as from
// its results folder.
func TestLoadSharedResults(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	url := pgtest.DB(t)
	p := reproduce.Presets()["cpu-quick"]
	p.Algorithms = []string{reproduce.ASHA}
	p.Budget = reproduce.Duration(time.Second)
	p.Seeds, p.TrainImages, p.MaxEpochs = 1, 300, 2
	p.MaxConv, p.MaxFC1, p.MaxFC2 = 4, 128, 32
	dir := filepath.Join(t.TempDir(), "nb")
	_, err := reproduce.Run(context.Background(), reproduce.Options{Preset: p, Dir: dir, Data: cifar.Synthetic(400, 10, 3),
		Backend: backendtest.Go(t), BackendSpec: "go",
		Shared: func(ctx context.Context, name string, settings []byte) (reproduce.SharedRun, error) {
			return pgstore.Open(ctx, url, name, settings)
		}})
	if err != nil {
		t.Fatal(err)
	}
	want, err := LoadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadSharedResults(context.Background(), url, "nb")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Experiment, want.Experiment) || !reflect.DeepEqual(got.Trajectories, want.Trajectories) ||
		got.Trials != want.Trials || got.Results != want.Results || got.Runs != 2 {
		t.Fatalf("from the database: %d runs %d trials %d results, want %d %d %d (or other curves)",
			got.Runs, got.Trials, got.Results, want.Runs, want.Trials, want.Results)
	}
	if _, err := LoadSharedResults(context.Background(), url, "other"); err == nil {
		t.Fatal("a reproduction that is not there was read")
	}
	o, err := Status(context.Background(), url)
	if err != nil || len(o.Experiments) != 2 {
		t.Fatalf("status: %v, %+v", err, o)
	}
}
