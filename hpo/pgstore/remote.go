package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hgdtune/hgdtune/hpo"
)

// Channels of LISTEN/NOTIFY: a task was queued or given back (workers
// wake), a task is done (its runner wakes; the payload is its id).
const (
	chanTasks = "hgdtune_tasks"
	chanDone  = "hgdtune_done"
)

// DefaultPoll is how often a runner waiting for a task and an idle worker
// look at the tables when no notification woke them: notifications make
// hand-outs immediate, polling makes them certain (a lost connection, an
// expired lease notifies nobody).
const DefaultPoll = time.Second

// Poll sets how often the runner's waiting tasks and a worker look at the
// tables without a notification (default DefaultPoll).
func Poll(d time.Duration) Option {
	return func(s *Store) { s.poll = max(d, time.Millisecond) }
}

// Remote returns the hpo.Remote that hands the experiment's training jobs
// to the workers of the database (Worker): set it as Experiment.Remote,
// with Experiment.Storage s.
//
// Each job is a row of hgdtune_tasks, queued by the runner that holds the
// experiment's lease and fenced by it: a runner that lost its lease can
// queue nothing, and a runner that takes an experiment over deletes the
// tasks of its predecessors (its replay queues them again). Train waits
// for a worker to finish the task (a notification, or a look every Poll),
// deletes it and returns its result; when its context ends it withdraws
// the task.
func (s *Store) Remote() hpo.Remote { return remote{s} }

type remote struct{ s *Store }

func (r remote) Train(ctx context.Context, task hpo.Task) (hpo.Result, error) {
	s := r.s
	body, err := json.Marshal(task)
	if err != nil {
		return hpo.Result{}, fmt.Errorf("%w: pgstore: encoding trial %d's task: %v", hpo.ErrTrial, task.Trial, err)
	}
	owner, err := s.fence()
	if err != nil {
		return hpo.Result{}, err
	}
	w, err := s.startWaiter()
	if err != nil {
		return hpo.Result{}, err
	}
	sctx := context.WithoutCancel(ctx)
	var id int64
	err = s.pool.QueryRow(sctx, `WITH t AS (
			INSERT INTO hgdtune_tasks (experiment, owner, trial, body)
			SELECT $1::bigint, $2::text, $3::integer, $4::json WHERE `+leaseHeld(2)+`
			RETURNING id)
		SELECT id FROM t, pg_notify('`+chanTasks+`', '')`, s.id, owner, int(task.Trial), string(body)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return hpo.Result{}, s.lostLease()
	}
	if err != nil {
		return hpo.Result{}, s.storageErr(err, fmt.Sprintf("queueing trial %d's task", task.Trial))
	}
	wake := w.add(id)
	defer w.remove(id)
	tick := time.NewTicker(s.pollEvery())
	defer tick.Stop()
	for {
		var done bool
		var result []byte
		var failure string
		err := s.pool.QueryRow(sctx, `SELECT done IS NOT NULL, coalesce(result::text, ''), coalesce(error, '')
			FROM hgdtune_tasks WHERE id = $1`, id).Scan(&done, &result, &failure)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// Only a runner that took the experiment over deletes
			// another's tasks.
			return hpo.Result{}, fmt.Errorf("%w: %w: pgstore: %s: trial %d's task was withdrawn by another runner: this one lost the experiment",
				hpo.ErrStorage, hpo.ErrLocked, s, task.Trial)
		case err != nil:
			return hpo.Result{}, s.storageErr(err, fmt.Sprintf("reading trial %d's task", task.Trial))
		case done:
			if _, err := s.pool.Exec(sctx, `DELETE FROM hgdtune_tasks WHERE id = $1`, id); err != nil {
				return hpo.Result{}, s.storageErr(err, fmt.Sprintf("removing trial %d's finished task", task.Trial))
			}
			if failure != "" {
				return hpo.Result{}, fmt.Errorf("%w: %s", hpo.ErrTrial, failure)
			}
			var res taskResult
			if err := json.Unmarshal(result, &res); err != nil {
				return hpo.Result{}, fmt.Errorf("%w: pgstore: trial %d's result %s: %v", hpo.ErrTrial, task.Trial, result, err)
			}
			return hpo.Result{Trial: task.Trial, Budget: res.Budget, Metrics: res.Metrics}, nil
		}
		select {
		case <-ctx.Done():
			// Withdraw the task; a worker training it finds it gone and
			// drops its result.
			s.pool.Exec(sctx, `DELETE FROM hgdtune_tasks WHERE id = $1`, id)
			return hpo.Result{}, ctx.Err()
		case <-wake:
		case <-tick.C:
		}
	}
}

// taskResult is what a worker stores of an hpo.Result.
type taskResult struct {
	Budget  int                `json:"budget"`
	Metrics map[string]float64 `json:"metrics"`
}

func (s *Store) pollEvery() time.Duration {
	if s.poll > 0 {
		return s.poll
	}
	return DefaultPoll
}

// purgeTasks deletes the experiment's tasks queued by other runners than
// owner: called when owner takes the experiment's lease.
func (s *Store) purgeTasks(ctx context.Context, owner string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM hgdtune_tasks WHERE experiment = $1 AND owner <> $2`, s.id, owner); err != nil {
		return s.storageErr(err, "withdrawing the tasks of the previous runner")
	}
	return nil
}

// waiter listens on chanDone for the Store's waiting tasks.
type waiter struct {
	mu    sync.Mutex
	ids   map[int64]chan struct{}
	stopF context.CancelFunc
	done  chan struct{}
}

// startWaiter starts the Store's listener once.
func (s *Store) startWaiter() (*waiter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiter != nil {
		return s.waiter, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &waiter{ids: map[int64]chan struct{}{}, stopF: cancel, done: make(chan struct{})}
	ready := make(chan struct{})
	go w.listen(ctx, s.listenAt(), chanDone, ready, func(payload string) {
		if id, err := strconv.ParseInt(payload, 10, 64); err == nil {
			w.wake(id)
		}
	})
	// The first tasks' notifications would be lost before LISTEN takes
	// effect (their runners would wait for a poll); a listener that cannot
	// connect leaves them to polling.
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
	}
	s.waiter = w
	return w, nil
}

func (w *waiter) add(id int64) <-chan struct{} {
	c := make(chan struct{}, 1)
	w.mu.Lock()
	w.ids[id] = c
	w.mu.Unlock()
	return c
}

func (w *waiter) remove(id int64) {
	w.mu.Lock()
	delete(w.ids, id)
	w.mu.Unlock()
}

func (w *waiter) wake(id int64) {
	w.mu.Lock()
	c := w.ids[id]
	w.mu.Unlock()
	if c != nil {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

func (w *waiter) stop() {
	w.stopF()
	<-w.done
}

// listen holds a connection that LISTENs on channel and calls on for each
// notification, reconnecting (after a pause) when the connection fails,
// until ctx is done. Missed notifications only cost a poll.
func (w *waiter) listen(ctx context.Context, url, channel string, ready chan<- struct{}, on func(payload string)) {
	defer close(w.done)
	listen(ctx, url, channel, ready, on)
}

// listen closes ready (if not nil) once it listens for the first time.
func listen(ctx context.Context, url, channel string, ready chan<- struct{}, on func(payload string)) {
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			if _, err = conn.Exec(ctx, "LISTEN "+channel); err == nil {
				if ready != nil {
					close(ready)
					ready = nil
				}
				for {
					n, err := conn.WaitForNotification(ctx)
					if err != nil {
						break
					}
					on(n.Payload)
				}
			}
			conn.Close(context.Background())
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
