package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hgdtune/hgdtune/hpo"
)

// takeOne takes a task and trains it; took is false when there was none.
func (r *workerRun) takeOne(ctx context.Context) (took bool, err error) {
	var id, exp int64
	var trial, attempts int
	var body []byte
	err = r.base.pool.QueryRow(ctx, `UPDATE hgdtune_tasks SET worker = $1, claimed = now(),
			expires = now() + make_interval(secs => $2), attempts = attempts + 1
		WHERE id = (SELECT id FROM hgdtune_tasks WHERE done IS NULL AND (worker IS NULL OR expires <= now())
			ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING id, experiment, trial, attempts, body::text`, r.id, r.w.ttl().Seconds()).Scan(&id, &exp, &trial, &attempts, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, r.base.storageErr(err, "taking a task")
	}
	// The lease is renewed from now on: looking the experiment up may take
	// long (loading its data).
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lost := make(chan struct{})
	go r.heartbeat(tctx, id, cancel, lost)
	x, err := r.experiment(ctx, exp)
	if err != nil {
		r.giveBack(id)
		return true, err
	}
	if attempts > r.w.maxAttempts() {
		r.logf("experiment %q trial %d: task %d failed: taken %d times", x.st.name, trial, id, attempts-1)
		return true, r.finish(ctx, x.st, id, nil, nil, fmt.Sprintf("its workers stopped %d times without finishing it (killed, or cut off from the database)", attempts-1))
	}
	if x.err != nil {
		return true, r.finish(ctx, x.st, id, nil, nil, fmt.Sprintf("worker %s cannot build experiment %q: %v", r.id[:8], x.st.name, x.err))
	}
	var task hpo.Task
	if err := json.Unmarshal(body, &task); err != nil {
		return true, r.finish(ctx, x.st, id, nil, nil, fmt.Sprintf("task %d is not a task: %v", id, err))
	}
	r.logf("experiment %q trial %d: training to %d (task %d, take %d)", x.st.name, trial, task.Until, id, attempts)
	ts := &taskStore{Store: x.st}
	defer ts.dropStaged()
	res, err := hpo.RunTask(tctx, ts, x.e.Space, x.e.Factory, x.e.Metric.Name, task)
	cancel()
	select {
	case <-lost:
		r.logf("experiment %q trial %d: task %d lost (its lease expired): result dropped", x.st.name, trial, id)
		return true, nil
	default:
	}
	switch {
	case ctx.Err() != nil:
		r.giveBack(id)
		return true, nil
	case errors.Is(err, hpo.ErrStorage):
		// Not the trial's fault: give it back for another try.
		r.giveBack(id)
		return true, err
	case err != nil:
		r.logf("experiment %q trial %d: failed: %v", x.st.name, trial, err)
		// The runner wraps the message in hpo.ErrTrial again.
		return true, r.finish(ctx, x.st, id, nil, nil, strings.TrimPrefix(err.Error(), hpo.ErrTrial.Error()+": "))
	}
	out, _ := json.Marshal(taskResult{Budget: res.Budget, Metrics: res.Metrics})
	if err := r.finish(ctx, x.st, id, ts.pending, out, ""); err != nil {
		return true, err
	}
	r.logf("experiment %q trial %d: done at %d", x.st.name, trial, res.Budget)
	return true, nil
}

// heartbeat renews task id's lease until ctx is done; when the lease is
// gone (another worker took the task, or its runner withdrew it) it closes
// lost and cancels the training.
func (r *workerRun) heartbeat(ctx context.Context, id int64, cancel func(), lost chan struct{}) {
	tick := time.NewTicker(r.w.renewEvery())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		tag, err := r.base.pool.Exec(ctx, `UPDATE hgdtune_tasks SET expires = now() + make_interval(secs => $3)
			WHERE id = $1 AND worker = $2 AND done IS NULL`, id, r.id, r.w.ttl().Seconds())
		if err == nil && tag.RowsAffected() == 0 {
			close(lost)
			cancel()
			return
		}
	}
}

// giveBack returns task id to the queue at once (the worker stops).
func (r *workerRun) giveBack(id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.base.pool.Exec(ctx, `WITH t AS (UPDATE hgdtune_tasks SET worker = NULL, expires = NULL
		WHERE id = $1 AND worker = $2 AND done IS NULL RETURNING id)
		SELECT pg_notify('`+chanTasks+`', '') FROM t`, id, r.id)
}

// finish ends task id in one transaction: if the task is still this
// worker's, it stores the checkpoint (ck, if any), the result or the
// failure, and notifies the runner. A task that is no longer its own is
// left alone.
func (r *workerRun) finish(ctx context.Context, st *Store, id int64, ck *checkpoint, result []byte, failure string) error {
	ctx = context.WithoutCancel(ctx)
	err := pgx.BeginFunc(ctx, r.base.pool, func(tx pgx.Tx) error {
		var mine bool
		if err := tx.QueryRow(ctx, `SELECT worker = $2 FROM hgdtune_tasks WHERE id = $1 AND done IS NULL FOR UPDATE`,
			id, r.id).Scan(&mine); errors.Is(err, pgx.ErrNoRows) || (err == nil && !mine) {
			return errNotMine
		} else if err != nil {
			return err
		}
		if ck != nil && ck.staged != "" {
			// In the shared folder: renamed into place while the task
			// row is locked as this worker's.
			if err := st.placeStaged(ck.staged, ck.key); err != nil {
				return err
			}
		} else if ck != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO hgdtune_checkpoints (experiment, key, data, size) VALUES ($1, $2, $3, $4)
				ON CONFLICT (experiment, key) DO UPDATE SET data = excluded.data, size = excluded.size, written = now()`,
				st.id, ck.key, ck.data, int64(len(ck.data))); err != nil {
				return err
			}
		}
		var res, fail any
		if result != nil {
			res = string(result)
		}
		if failure != "" {
			fail = failure
		}
		if _, err := tx.Exec(ctx, `UPDATE hgdtune_tasks SET done = now(), result = $2::json, error = $3 WHERE id = $1`,
			id, res, fail); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE hgdtune_workers SET tasks = tasks + 1 WHERE id = $1`, r.id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify('`+chanDone+`', $1::text)`, fmt.Sprint(id))
		return err
	})
	if errors.Is(err, errNotMine) {
		return nil
	}
	if err != nil {
		return st.storageErr(err, fmt.Sprintf("finishing task %d", id))
	}
	return nil
}

var errNotMine = errors.New("the task is no longer this worker's")

// checkpoint is a checkpoint waiting to be stored with its task's end:
// packed for the database, or staged in the shared folder.
type checkpoint struct {
	key    string
	data   []byte
	staged string
}

// taskStore is the experiment's Store as a worker's task sees it: it
// reads checkpoints as the Store does, and keeps the checkpoint it saves
// for the transaction that finishes the task (so that only the worker
// that holds the task writes it).
type taskStore struct {
	*Store
	pending *checkpoint
}

func (t *taskStore) SaveCheckpoint(ctx context.Context, key string, write func(dir string) error) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if t.ckptDir != "" {
		staged, err := t.stageInFolder(key, write)
		if err != nil {
			return err
		}
		t.pending = &checkpoint{key: key, staged: staged}
		return nil
	}
	data, err := packCheckpoint(key, write)
	if err != nil {
		return err
	}
	t.pending = &checkpoint{key: key, data: data}
	return nil
}

// dropStaged removes a checkpoint staged in the shared folder that was not
// placed (the task failed or was lost).
func (t *taskStore) dropStaged() {
	if t.pending != nil && t.pending.staged != "" {
		os.RemoveAll(t.pending.staged)
	}
}
