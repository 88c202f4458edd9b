package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/internal/killtest"
	"github.com/hgdtune/hgdtune/hpo/pbt"
	"github.com/hgdtune/hgdtune/hpo/pgstore"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
	"github.com/hgdtune/hgdtune/internal/testkit"
)

// killExperiment is the experiment of TestKillWorkers: PBT (exploits copy
// checkpoints) on compute time, each step sleeping sleep of real time so
// that the kills land mid-task.
func killExperiment(t testing.TB, sleep time.Duration) hpo.Experiment {
	p := &synthetic.Problem{Seed: 3, Noise: 0.01, StepCost: time.Second, Sleep: sleep}
	return hpo.Experiment{Space: synthetic.Space(), Metric: hpotest.Acc, Factory: p.Factory(),
		Scheduler: hpotest.MustNew(t, pbt.New, pbt.Config{Space: synthetic.Space(), PopulationSize: 4, Interval: 3, MaxBudget: 90, Seed: 7}),
		Slots:     2, Seed: 3, Cost: p.Cost}
}

const killSettings = `{"test": "kill"}`

// runOnFolder runs e on a new folder and returns its report and journal.
func runOnFolder(t *testing.T, e hpo.Experiment) (*hpo.Report, []hpo.Event) {
	t.Helper()
	e.Storage = hpo.DirStorage(t.TempDir())
	rep, err := hpo.Run(ctx, e)
	if err != nil {
		t.Fatalf("run on a folder: %v", err)
	}
	events, _, err := hpo.ReadJournal(filepath.Join(string(e.Storage.(hpo.DirStorage)), "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return rep, events
}

// startExperiment runs experiment name's scheduling (its trials trained
// here) until its first three results are journaled, and stops.
func startExperiment(t *testing.T, url, name string) {
	st := open(t, url, name, killSettings, pgstore.Poll(20*time.Millisecond))
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e := killExperiment(t, 0)
	e.Storage = st
	var n atomic.Int32
	p := &synthetic.Problem{Seed: 3, Noise: 0.01, StepCost: time.Second}
	e.Factory = func(ctx context.Context, id hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
		tr, err := p.New(cfg)
		if err != nil {
			return nil, err
		}
		return cancelling{tr, &n, 3, cancel}, nil
	}
	if _, err := hpo.Run(cctx, e); !errors.Is(err, context.Canceled) {
		t.Fatalf("the first runner: %v, want context.Canceled", err)
	}
}

// TestWorkerProcess is the worker process of TestKillWorkers: a Worker
// that also owns unowned experiments, until it is killed.
func TestWorkerProcess(t *testing.T) {
	url := os.Getenv("PGSTORE_WORKER_URL")
	if url == "" {
		t.Skip("only run as a worker process of TestKillWorkers")
	}
	w := &pgstore.Worker{Own: true, LeaseTTL: time.Second, Poll: 50 * time.Millisecond, Log: os.Stderr,
		Lookup: func(_ context.Context, _ string, settings []byte) (hpo.Experiment, error) {
			if string(settings) != killSettings {
				return hpo.Experiment{}, errors.New("not this test's experiment")
			}
			return killExperiment(t, 50*time.Millisecond), nil
		}}
	w.Renew = 200 * time.Millisecond
	if err := w.Run(ctx, url); err != nil {
		t.Fatal(err)
	}
}

// TestKillWorkers runs an experiment with three worker processes that
// also own its scheduling, kills one every so often with SIGKILL (every
// other time the one that owns the scheduling) and starts another, and
// requires the journal and the report of the same experiment run on a
// folder: every trial finishes, no result is lost or counted twice.
func TestKillWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs worker processes for tens of seconds")
	}
	url := testDB(t)
	e := killExperiment(t, 0)
	ref, refJournal := runOnFolder(t, e)
	const name = "killed"
	st := open(t, url, name, killSettings)
	// This runner starts the experiment and stops after its first
	// results: the workers take it over (Worker.Own) and go on.
	startExperiment(t, url, name)

	logs := t.TempDir()
	started := 0
	start := func() *osexec.Cmd {
		started++
		return testkit.StartChild(t, "TestWorkerProcess", filepath.Join(logs, fmt.Sprintf("worker%d.log", started)), "PGSTORE_WORKER_URL="+url)
	}
	workers := []*osexec.Cmd{start(), start(), start()}
	defer func() {
		for _, w := range workers {
			w.Process.Kill()
			w.Wait()
		}
		if t.Failed() {
			for i := 1; i <= started; i++ {
				b, _ := os.ReadFile(filepath.Join(logs, fmt.Sprintf("worker%d.log", i)))
				t.Logf("worker %d:\n%s", i, b)
			}
		}
	}()

	conn := connect(t, url)
	defer conn.Close(ctx)
	ended := func() bool {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM hgdtune_events WHERE kind = 'end'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	// ownerPid is the pid of the lease's holder, 0 if none.
	ownerPid := func() int {
		var holder string
		err := conn.QueryRow(ctx, `SELECT holder FROM hgdtune_leases WHERE expires > now()`).Scan(&holder)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		var pid int
		fmt.Sscanf(holder, "pid %d", &pid)
		return pid
	}
	// heldBy returns the unfinished tasks held by the worker process pid.
	heldBy := func(pid int) []int64 {
		rows, err := conn.Query(ctx, `SELECT t.id FROM hgdtune_tasks t JOIN hgdtune_workers w ON w.id = t.worker
			WHERE w.holder LIKE $1 AND t.done IS NULL`, fmt.Sprintf("pid %d %%", pid))
		if err != nil {
			t.Fatal(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	// retaken waits until task id is no longer held by worker pid's row
	// (another worker took it, or a new runner withdrew it).
	retaken := func(id int64, pid int) time.Duration {
		begin := time.Now()
		for {
			var still bool
			err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM hgdtune_tasks t JOIN hgdtune_workers w ON w.id = t.worker
				WHERE t.id = $1 AND t.done IS NULL AND w.holder LIKE $2)`, id, fmt.Sprintf("pid %d %%", pid)).Scan(&still)
			if err != nil {
				t.Fatal(err)
			}
			if !still || time.Since(begin) > 2*time.Minute {
				return time.Since(begin)
			}
			time.Sleep(10 * time.Millisecond) // measuring, not waiting for a result
		}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	deadline := time.Now().Add(4 * time.Minute)
	kills, ownerKills := 0, 0
	var waits []time.Duration
	for !ended() {
		if time.Now().After(deadline) {
			t.Fatalf("the experiment did not end in 4 minutes (%d kills)", kills)
		}
		// Wait a random while, watching for the end.
		pause := time.Duration(300+rng.IntN(900)) * time.Millisecond
		for until := time.Now().Add(pause); time.Now().Before(until) && !ended(); {
			time.Sleep(20 * time.Millisecond)
		}
		if ended() || kills >= 8 {
			continue
		}
		victim := rng.IntN(len(workers))
		if kills%2 == 0 {
			pid := ownerPid()
			if i := slices.IndexFunc(workers, func(c *osexec.Cmd) bool { return c.Process.Pid == pid }); i >= 0 {
				victim = i
				ownerKills++
			}
		}
		pid := workers[victim].Process.Pid
		held := heldBy(pid)
		if err := workers[victim].Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		workers[victim].Wait()
		kills++
		workers[victim] = start()
		for _, id := range held {
			waits = append(waits, retaken(id, pid))
		}
	}
	if kills < 4 || ownerKills < 2 {
		t.Fatalf("only %d kills (%d of the owner) before the end: the experiment is too short to test anything", kills, ownerKills)
	}
	events, err := st.ReadJournal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	killtest.SameJournal(t, "the journal after the kills against the folder's", events, refJournal)
	rep, err := hpo.LoadReportSpaceFrom(ctx, st, e.Space)
	if err != nil {
		t.Fatal(err)
	}
	sameReport(t, "the report after the kills against the folder's", rep, ref)
	var w []string
	for _, d := range waits {
		w = append(w, d.Round(10*time.Millisecond).String())
	}
	t.Logf("%d kills (%d of the scheduling owner), %d results as without kills; a dead worker's task was taken again after %s (lease TTL 1s)",
		kills, ownerKills, len(ref.Records), strings.Join(w, ", "))
}
