package pgstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/internal/killtest"
	"github.com/hgdtune/hgdtune/hpo/pgstore"
)

// lookupScenarios is a Worker.Lookup that builds the scenario its
// settings name.
func lookupScenarios(t *testing.T) func(context.Context, string, []byte) (hpo.Experiment, error) {
	return func(_ context.Context, name string, settings []byte) (hpo.Experiment, error) {
		for _, sc := range scenarios {
			if string(settings) == `{"scenario": "`+sc.name+`"}` {
				return sc.experiment(t, nil), nil
			}
		}
		return hpo.Experiment{}, errors.New("unknown scenario " + string(settings))
	}
}

// startWorkers runs n workers on url until t ends.
func startWorkers(t *testing.T, url string, n int, configure func(*pgstore.Worker)) {
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range n {
		w := &pgstore.Worker{Lookup: lookupScenarios(t), Poll: 50 * time.Millisecond}
		if configure != nil {
			configure(w)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Run(cctx, url); err != nil {
				t.Errorf("worker: %v", err)
			}
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// An experiment whose trials are trained by three workers through the
// database (Store.Remote) gives the journal and the report of the same
// experiment run on a folder by local workers: ASHA (trials resumed from
// checkpoints) and PBT (exploits).
func TestWorkersSameAsLocal(t *testing.T) {
	url := testDB(t)
	startWorkers(t, url, 3, nil)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			dir := t.TempDir()
			e := sc.experiment(t, nil)
			e.Dir = dir
			ref, err := hpo.Run(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			refJournal, _, err := hpo.ReadJournal(filepath.Join(dir, "journal.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			st := open(t, url, sc.name, `{"scenario": "`+sc.name+`"}`)
			e = sc.experiment(t, nil)
			e.Storage, e.Remote, e.Factory = st, st.Remote(), nil
			rep, err := hpo.Run(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			sameReport(t, "workers against local", rep, ref)
			events, err := st.ReadJournal(ctx)
			if err != nil {
				t.Fatal(err)
			}
			killtest.SameJournal(t, "workers' journal against the folder's", events, refJournal)
			conn := connect(t, url)
			defer conn.Close(ctx)
			var left int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM hgdtune_tasks`).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left != 0 {
				t.Fatalf("%d tasks left in the table", left)
			}
		})
	}
}
