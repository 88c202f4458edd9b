package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hgdtune/hgdtune/hpo"
)

// DefaultMaxAttempts is how many workers may take a task in turn before it
// fails: a task whose workers keep dying (out of memory, say) fails its
// trial instead of killing workers for ever.
const DefaultMaxAttempts = 3

// Worker trains the tasks that runners queue (Store.Remote) for any
// experiment of a database, Slots at a time, and with Own it also runs
// the scheduling of experiments that no live runner holds: a machine that
// runs workers only needs the database's URL.
//
// A worker takes the oldest task that nobody holds, or whose worker let
// its lease expire (SELECT … FOR UPDATE SKIP LOCKED: two workers never
// take the same task), renews its lease every third of LeaseTTL (Renew) while it
// trains, and stores the checkpoint, the result and the task's end in one
// transaction that first checks the task is still its own. A worker that
// dies stops renewing: after LeaseTTL another worker takes the task and
// trains it again from its checkpoint, and a late result of the dead one
// (a worker that was only cut off) is dropped. A task taken MaxAttempts
// times fails its trial.
//
// The zero value needs Lookup; the other fields have the defaults given.
type Worker struct {
	// Lookup returns the experiment called name, created with settings
	// (as Open stored them): a worker trains its tasks with its Space,
	// Factory and Metric, and owns its scheduling (with Own) with all of
	// it (Storage and Remote are set by the worker). Required.
	Lookup func(ctx context.Context, name string, settings []byte) (hpo.Experiment, error)
	// Slots is the number of tasks trained at once (default 1).
	Slots int
	// Own makes the worker take over the scheduling of experiments that
	// were started (they have a journal), have not ended and that no live
	// runner holds: their runner died, was cut off for longer than its
	// lease, or was stopped. It replays the journal from the database and
	// goes on, queuing the trials as tasks. Experiments never started are
	// left to whoever created them.
	Own bool
	// MaxOwned bounds the experiments whose scheduling the worker runs at
	// once (default 1): runs on a wall clock should not wait in a queue.
	MaxOwned int
	// LeaseTTL is how long a task's (and an owned experiment's) lease lives
	// without renewal (default DefaultLeaseTTL): how long the task of a
	// dead worker waits before another worker takes it.
	LeaseTTL time.Duration
	// Poll is how often an idle worker looks for tasks and experiments
	// without a notification (default DefaultPoll).
	Poll time.Duration
	// MaxAttempts (default DefaultMaxAttempts) bounds the takes of a task.
	MaxAttempts int
	// Log receives a line per task taken and finished and per experiment
	// owned (nil: none).
	Log io.Writer
	// ListenURL, when set, is where the connections that wait for
	// notifications (LISTEN: tasks queued, and the results of the tasks of
	// experiments it owns) go instead of Run's URL: the
	// database reached directly, when Run's URL goes through a pooler that
	// does not pass LISTEN on (PgBouncer in transaction mode).
	ListenURL string
	// Renew is how often the worker renews its leases (default LeaseTTL/3):
	// shorter on a network that drops packets, so that a lease survives a
	// lost renewal or two.
	Renew time.Duration
}

// workerRun is one Worker.Run.
type workerRun struct {
	w      *Worker
	base   *Store // the connection pool, without an experiment
	id     string // this worker's id in hgdtune_workers and on tasks
	wake   chan struct{}
	logMu  sync.Mutex
	mu     sync.Mutex
	exps   map[int64]*workerExp
	owning map[int64]bool
	wg     sync.WaitGroup
}

// workerExp is what a worker knows of one experiment.
type workerExp struct {
	st       *Store
	settings []byte
	e        hpo.Experiment // for its tasks: Space, Factory, Metric
	err      error          // Lookup failed: its tasks fail
}

func (w *Worker) ttl() time.Duration {
	if w.LeaseTTL > 0 {
		return max(w.LeaseTTL, time.Second)
	}
	return DefaultLeaseTTL
}

func (w *Worker) renewEvery() time.Duration {
	if w.Renew > 0 {
		return w.Renew
	}
	return w.ttl() / 3
}

func (w *Worker) poll() time.Duration {
	if w.Poll > 0 {
		return w.Poll
	}
	return DefaultPoll
}

func (w *Worker) maxAttempts() int {
	if w.MaxAttempts > 0 {
		return w.MaxAttempts
	}
	return DefaultMaxAttempts
}

// Run works with the database at url until ctx is done (it returns nil
// then), or fails with ErrUnreachable, ErrSchemaTooNew or a storage error
// before it starts. The tasks it holds when ctx ends are given back at
// once; the experiments it owns stop and are left to other workers.
func (w *Worker) Run(ctx context.Context, url string) error {
	if w.Lookup == nil {
		return fmt.Errorf("%w: pgstore: a Worker needs a Lookup", hpo.ErrInvalid)
	}
	if w.Renew < 0 || w.Renew >= w.ttl() {
		return fmt.Errorf("%w: pgstore: Worker.Renew %v must be shorter than its lease (%v), or 0", hpo.ErrInvalid, w.Renew, w.ttl())
	}
	base, err := dial(ctx, url, LeaseTTL(w.ttl()), RenewEvery(w.Renew), ListenURL(w.ListenURL))
	if err != nil && ctx.Err() != nil {
		return nil // stopped while it started
	}
	if err != nil {
		return err
	}
	defer base.pool.Close()
	r := &workerRun{w: w, base: base, id: randomID(), wake: make(chan struct{}, max(w.Slots, 1)),
		exps: map[int64]*workerExp{}, owning: map[int64]bool{}}
	if _, err := base.pool.Exec(ctx, `INSERT INTO hgdtune_workers (id, holder) VALUES ($1, $2)`, r.id, describeHolder(r.id)); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return base.storageErr(err, "registering the worker")
	}
	defer base.pool.Exec(context.WithoutCancel(ctx), `DELETE FROM hgdtune_workers WHERE id = $1`, r.id)
	lctx, stopListen := context.WithCancel(ctx)
	go listen(lctx, base.listenAt(), chanTasks, nil, func(string) { r.signal() })
	defer stopListen()
	for range max(w.Slots, 1) {
		r.wg.Add(1)
		go r.slot(ctx)
	}
	r.wg.Add(1)
	go r.housekeeping(ctx)
	r.wg.Wait()
	r.mu.Lock()
	for _, x := range r.exps {
		if x.st != nil {
			x.st.Close()
		}
	}
	r.mu.Unlock()
	return nil
}

// signal wakes the slots (a task was queued or given back).
func (r *workerRun) signal() {
	for {
		select {
		case r.wake <- struct{}{}:
		default:
			return
		}
	}
}

// slot takes and trains tasks until ctx is done.
func (r *workerRun) slot(ctx context.Context) {
	defer r.wg.Done()
	tick := time.NewTicker(r.w.poll())
	defer tick.Stop()
	var tr trouble // this loop's errors
	for ctx.Err() == nil {
		took, err := r.takeOne(ctx)
		switch {
		case err == nil:
			r.worked(&tr)
		case ctx.Err() == nil:
			r.failed(&tr, err)
		}
		if took {
			continue
		}
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-tick.C:
		}
	}
}

// housekeeping renews the worker's row and, with Own, takes over the
// experiments nobody runs.
func (r *workerRun) housekeeping(ctx context.Context) {
	defer r.wg.Done()
	tick := time.NewTicker(min(r.w.poll(), r.w.renewEvery()))
	defer tick.Stop()
	var tr trouble // this loop's errors
	for {
		r.base.pool.Exec(ctx, `UPDATE hgdtune_workers SET seen = now() WHERE id = $1`, r.id)
		if r.w.Own {
			switch err := r.own(ctx); {
			case err == nil:
				r.worked(&tr)
			case ctx.Err() == nil:
				r.failed(&tr, err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// own starts the scheduling of each unfinished experiment without a live
// lease (that this worker does not run already).
func (r *workerRun) own(ctx context.Context) error {
	rows, err := r.base.pool.Query(ctx, `SELECT e.id FROM hgdtune_experiments e
		LEFT JOIN hgdtune_leases l ON l.experiment = e.id
		WHERE (l.experiment IS NULL OR l.expires <= now())
		AND EXISTS (SELECT 1 FROM hgdtune_events v WHERE v.experiment = e.id)
		AND NOT EXISTS (SELECT 1 FROM hgdtune_events v WHERE v.experiment = e.id AND v.kind = 'end')
		ORDER BY e.id`)
	if err != nil {
		return r.base.storageErr(err, "looking for experiments without a runner")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return r.base.storageErr(err, "looking for experiments without a runner")
	}
	for _, id := range ids {
		r.mu.Lock()
		busy, full := r.owning[id], len(r.owning) >= max(r.w.MaxOwned, 1)
		r.mu.Unlock()
		if full {
			return nil
		}
		if busy {
			continue
		}
		x, err := r.experiment(ctx, id)
		if err != nil {
			return err
		}
		if x.err != nil {
			continue // said when it was looked up
		}
		r.mu.Lock()
		r.owning[id] = true
		r.mu.Unlock()
		r.wg.Add(1)
		go r.runExperiment(ctx, id, x)
	}
	return nil
}

// runExperiment runs experiment id's scheduling until it ends or ctx is
// done.
func (r *workerRun) runExperiment(ctx context.Context, id int64, x *workerExp) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		delete(r.owning, id)
		r.mu.Unlock()
	}()
	// A Store of its own: the lease belongs to this run.
	st := &Store{pool: r.base.pool, shared: true, name: x.st.name, id: id, addr: r.base.addr, db: r.base.db,
		url: r.base.url, listenURL: r.base.listenURL, ttl: r.w.ttl(), renew: r.w.Renew, poll: r.w.poll(), ckptDir: x.st.ckptDir}
	defer st.Close()
	// A fresh experiment: its scheduler and searcher start from nothing
	// and replay the journal (the one kept for tasks may have run before).
	e, err := r.w.Lookup(ctx, st.name, x.settings)
	if err != nil {
		r.logf("experiment %q: %v", st.name, err)
		return
	}
	e.Storage, e.Remote = st, st.Remote()
	r.logf("owning experiment %q", st.name)
	rep, err := hpo.Run(ctx, e)
	switch {
	case errors.Is(err, hpo.ErrLocked) && rep == nil:
		// Another process took it first.
	case err != nil && ctx.Err() == nil:
		r.logf("experiment %q stopped: %v", st.name, err)
	case err == nil:
		r.logf("experiment %q ended: %s", st.name, rep.Reason)
	}
}

// experiment returns what the worker knows of experiment id, looking it
// up the first time.
func (r *workerRun) experiment(ctx context.Context, id int64) (*workerExp, error) {
	r.mu.Lock()
	x := r.exps[id]
	r.mu.Unlock()
	if x != nil {
		return x, nil
	}
	var name, dir string
	var settings []byte
	err := r.base.pool.QueryRow(ctx, `SELECT name, settings::text, checkpoint_dir FROM hgdtune_experiments WHERE id = $1`, id).Scan(&name, &settings, &dir)
	if err != nil {
		return nil, r.base.storageErr(err, fmt.Sprintf("reading experiment %d", id))
	}
	st := &Store{pool: r.base.pool, shared: true, name: name, id: id, addr: r.base.addr, db: r.base.db, url: r.base.url, ttl: r.w.ttl(), ckptDir: dir}
	x = &workerExp{st: st, settings: settings}
	x.e, x.err = r.w.Lookup(ctx, name, settings)
	if x.err != nil {
		r.logf("experiment %q: %v", name, x.err)
	}
	r.mu.Lock()
	r.exps[id] = x
	r.mu.Unlock()
	return x, nil
}
