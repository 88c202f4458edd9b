package pgstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/internal/killtest"
	"github.com/hgdtune/hgdtune/hpo/pgstore"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
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
	for _, c := range []struct {
		sc     scenario
		folder bool
	}{{scenarios[0], false}, {scenarios[1], false}, {scenarios[1], true}} {
		sc := c.sc
		name := sc.name
		var opts []pgstore.Option
		if c.folder {
			// Checkpoints in a shared folder: the workers find it in the
			// experiment's row.
			name += "-folder"
			opts = append(opts, pgstore.CheckpointDir(t.TempDir()))
		}
		t.Run(name, func(t *testing.T) {
			ref, refJournal := runOnFolder(t, sc.experiment(t, nil))
			st := open(t, url, name, `{"scenario": "`+sc.name+`"}`, opts...)
			e := sc.experiment(t, nil)
			e.Storage, e.Remote, e.Factory = st, st.Remote(), nil
			rep, err := hpo.Run(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			sameReport(t, "workers against local", rep, ref)
			if c.folder {
				// Every trial's latest checkpoint is a folder, and nothing
				// is left staged or in the database.
				for _, tr := range rep.Trials {
					if _, err := os.Stat(filepath.Join(opts0(t, st), name, "checkpoints", tr.Checkpoint)); tr.Checkpoint != "" && err != nil {
						t.Fatalf("trial %d's checkpoint: %v", tr.ID, err)
					}
				}
				if staged, _ := filepath.Glob(filepath.Join(opts0(t, st), name, "checkpoints", ".task-*")); len(staged) > 0 || len(checkpointKeys(t, url, name)) > 0 {
					t.Fatalf("staged folders %v left, or checkpoints in the database", staged)
				}
			}
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

// opts0 is the checkpoint folder of st's experiment, as the database
// records it.
func opts0(t *testing.T, st *pgstore.Store) string {
	t.Helper()
	dir, err := pgstore.CheckpointFolder(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Status reads what the workers did: each experiment ended with the best
// result of its report, and the workers' finished tasks.
func TestStatus(t *testing.T) {
	url := testDB(t)
	startWorkers(t, url, 2, nil)
	sc := scenarios[0]
	st := open(t, url, sc.name, `{"scenario": "`+sc.name+`"}`)
	e := sc.experiment(t, nil)
	e.Storage, e.Remote, e.Factory = st, st.Remote(), nil
	rep, err := hpo.Run(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	open(t, url, "never-started", `{}`)
	o, err := pgstore.Status(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Experiments) != 2 || o.Experiments[0].Name != sc.name || o.Experiments[1].Name != "never-started" {
		t.Fatalf("experiments %+v", o.Experiments)
	}
	x := o.Experiments[0]
	want, _ := rep.Best()
	if got, ok := x.Report.Best(); !ok || !reflect.DeepEqual(got, want) || x.State() != "ended ("+rep.Reason+")" {
		t.Fatalf("best %+v (state %q), want %+v, ended (%s)", got, x.State(), want, rep.Reason)
	}
	if o.Experiments[1].Report != nil || o.Experiments[1].State() != "waiting for a runner" {
		t.Fatalf("an experiment never started: %+v", o.Experiments[1])
	}
	var tasks int64
	for _, w := range o.Workers {
		tasks += w.Tasks
	}
	// Every result and failure came from one task.
	if len(o.Workers) != 2 || tasks != int64(len(rep.Records)) {
		t.Fatalf("%d workers finished %d tasks, want 2 workers and %d tasks", len(o.Workers), tasks, len(rep.Records))
	}
	var out strings.Builder
	if err := o.Write(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), sc.name) || !strings.Contains(out.String(), "ended (") {
		t.Fatalf("overview:\n%s", out.String())
	}
}

// A trial that fails on its worker fails alone, with the worker's error;
// a task whose workers keep dying fails after MaxAttempts takes; a worker
// that cannot build the experiment fails its tasks, saying why.
func TestWorkerFailures(t *testing.T) {
	url := testDB(t)
	st := open(t, url, "failing", `{"scenario": "none"}`)
	release, err := st.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	task := hpo.Task{Trial: 0, Config: []byte(`{"lr": 0.1, "layers": 2}`), Until: 1}
	train := func() chan error {
		c := make(chan error, 1)
		go func() {
			_, err := st.Remote().Train(ctx, task)
			c <- err
		}()
		return c
	}
	// A task already taken twice by workers that died (before any
	// worker runs here).
	conn := connect(t, url)
	defer conn.Close(ctx)
	res := train()
	for {
		tag, err := conn.Exec(ctx, `UPDATE hgdtune_tasks SET worker = 'ghost', expires = now() - interval '1 second', attempts = 2 WHERE done IS NULL AND worker IS NULL`)
		if err != nil {
			t.Fatal(err)
		}
		if tag.RowsAffected() == 1 {
			break
		}
		select {
		case err := <-res:
			t.Fatalf("the task ended before it could be marked taken: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	startWorkers(t, url, 1, func(w *pgstore.Worker) { w.MaxAttempts = 2 })
	if err := <-res; !errors.Is(err, hpo.ErrTrial) || !strings.Contains(err.Error(), "stopped 2 times") {
		t.Fatalf("Train: %v, want ErrTrial after 2 takes", err)
	}
	// No worker knows "none": the task fails, naming the Lookup's error.
	if err := <-train(); !errors.Is(err, hpo.ErrTrial) || !strings.Contains(err.Error(), "unknown scenario") {
		t.Fatalf("Train: %v, want ErrTrial naming the Lookup's failure", err)
	}
}

// A worker that loses an experiment it owns (its lease expired: a pause
// longer than the lease) and takes it over again replays it with a fresh
// scheduler: the experiment ends as an uninterrupted run on a folder.
func TestWorkerOwnsAgain(t *testing.T) {
	url := testDB(t)
	_, want := runOnFolder(t, killExperiment(t, 0))
	st := open(t, url, "owned-twice", killSettings)
	startExperiment(t, url, "owned-twice")
	startWorkers(t, url, 1, func(w *pgstore.Worker) {
		w.Own, w.LeaseTTL, w.Poll = true, time.Second, 20*time.Millisecond
		w.Lookup = func(context.Context, string, []byte) (hpo.Experiment, error) {
			return killExperiment(t, 5*time.Millisecond), nil
		}
		w.Renew = 100 * time.Millisecond
	})
	conn := connect(t, url)
	defer conn.Close(ctx)
	events := func() int {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM hgdtune_events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Once the worker owns it and has gone on a little, its lease expires.
	first := events()
	deadline := time.Now().Add(2 * time.Minute)
	for events() < first+10 {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not take the experiment over")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := conn.Exec(ctx, `UPDATE hgdtune_leases SET expires = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	for {
		var ended bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM hgdtune_events WHERE kind = 'end')`).Scan(&ended); err != nil {
			t.Fatal(err)
		}
		if ended {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the experiment did not end")
		}
		time.Sleep(10 * time.Millisecond)
	}
	got, err := st.ReadJournal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	killtest.SameJournal(t, "owned twice against a folder", killtest.Comparable(got), killtest.Comparable(want))
	resumes := 0
	for _, e := range got {
		if e.Kind == hpo.EvResume {
			resumes++
		}
	}
	if resumes < 2 {
		t.Fatalf("%d resumes: the worker did not take the experiment over twice", resumes)
	}
}

// A worker's ListenURL carries every LISTEN of the worker: for tasks, and
// for the results of the experiment it owns (whose runner it is), so that
// a pooler in front of Run's URL is never asked to pass one on.
func TestWorkerListenURL(t *testing.T) {
	url := testDB(t)
	listenAt, conns := countingProxy(t, url, 0)
	st := open(t, url, "listen-url", killSettings)
	startExperiment(t, url, "listen-url")
	startWorkers(t, url, 1, func(w *pgstore.Worker) {
		w.Own, w.LeaseTTL, w.Poll, w.ListenURL = true, time.Second, 20*time.Millisecond, listenAt
		w.Lookup = func(context.Context, string, []byte) (hpo.Experiment, error) {
			return killExperiment(t, 0), nil
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for {
		events, err := st.ReadJournal(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) > 0 && events[len(events)-1].Kind == hpo.EvEnd {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the owned experiment did not end")
		}
		time.Sleep(10 * time.Millisecond) // polling the journal, not waiting for time to pass
	}
	if n := conns.Load(); n < 2 {
		t.Errorf("%d connections through ListenURL, want at least 2 (the worker's and its owned experiment's)", n)
	}
}

// The runner listens before it queues its first task: a worker that takes
// and finishes it at once wakes the runner, even when the listening
// connection is slow to open; otherwise the runner (here one that looks
// only once an hour) waits for its next look. The benchmark showed it: at
// 16 workers the first tasks waited for the default one-second look.
func TestFirstTaskNotified(t *testing.T) {
	url := testDB(t)
	startWorkers(t, url, 1, func(w *pgstore.Worker) {
		w.Poll = time.Millisecond
		w.Lookup = func(context.Context, string, []byte) (hpo.Experiment, error) {
			return scenarios[0].experiment(t, nil), nil
		}
	})
	cfg, err := json.Marshal(synthetic.Optimum())
	if err != nil {
		t.Fatal(err)
	}
	slow := slowProxy(t, url, 200*time.Millisecond)
	for i := range 5 {
		st := open(t, url, fmt.Sprintf("first-%d", i), `{}`, pgstore.Poll(time.Hour), pgstore.ListenURL(slow))
		release, err := st.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		_, err = st.Remote().Train(tctx, hpo.Task{Trial: 0, Config: cfg, Until: 1})
		cancel()
		release()
		if err != nil {
			t.Fatalf("store %d: the first task: %v (a lost notification leaves the runner waiting for its hourly look)", i, err)
		}
	}
}
