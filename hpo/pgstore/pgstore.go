// Package pgstore keeps hpo experiments in a PostgreSQL database: an
// hpo.Storage whose journal, checkpoints and lock are rows, so that the
// experiment outlives the machine that runs it and can be read from any
// other one (hpo.LoadReportFrom) while it runs.
//
//	st, err := pgstore.Open(ctx, "postgres://user:pw@db:5432/hpo", "asha-sgd-s1", settingsJSON)
//	defer st.Close()
//	rep, err := hpo.Run(ctx, hpo.Experiment{..., Storage: st})
//
// # Schema
//
// The program creates and migrates its tables itself when it opens a
// database: each migration runs in one transaction that holds
// pg_advisory_xact_lock (two programs opening an empty database at once
// migrate it once), and hgdtune_schema_version records each applied
// version. A database migrated by a newer program (a version this one does
// not know) is refused with ErrSchemaTooNew, and nothing is written. The
// tables are unqualified names, created in the first schema of the
// connection's search_path (a URL may set it: ?search_path=hpo).
//
//	hgdtune_experiments  id, name (unique), settings (jsonb), created, checkpoint_dir
//	hgdtune_events       experiment, seq, kind, body (json, the event as hpo encodes it);
//	                     primary key (experiment, seq)
//	hgdtune_checkpoints  experiment, key, data (a tar of the checkpoint's folder), size,
//	                     written; primary key (experiment, key)
//	hgdtune_leases       experiment (primary key), owner, holder, acquired, expires
//	hgdtune_tasks        id, experiment, owner (the queuing runner's lease), trial, body
//	                     (an hpo.Task), queued, worker, claimed, expires, attempts, done,
//	                     result, error
//	hgdtune_workers      id, holder, started, seen, tasks
//
// An experiment is a name and its settings (any JSON: what the caller
// needs to be the same to resume, say the preset and the algorithm). Open
// creates it, or opens it if the settings are equal as JSON values; other
// settings are refused with ErrSettingsMismatch, naming the fields that
// differ, before anything is written.
//
// # Journal
//
// Each journal event is one row, inserted by one statement: there is never
// a torn event. The writer numbers events as the file journal does, and the
// primary key refuses a number that another writer took first: two runners
// can never interleave one experiment's journal, even without the lock.
// The body is kept as the exact JSON text hpo wrote (type json, not
// jsonb), because replay compares configurations byte for byte.
//
// # Checkpoints
//
// A checkpoint is the folder Trainable.Save fills, written in a local
// temporary folder and stored as a tar in one row, by one statement: all or
// nothing. LoadCheckpoint unpacks it into a temporary folder for
// Trainable.Restore and deletes it afterwards; CopyCheckpoint copies the row
// inside the database.
//
// # Lock
//
// Lock inserts the experiment's lease row (a random owner id, a line
// describing the holder, an expiry LeaseTTL ahead in the database's clock)
// and a goroutine renews it every third of LeaseTTL (RenewEvery); release deletes it. A
// live lease of another holder makes Lock fail with an error wrapping
// hpo.ErrLocked that names it; an expired one (its holder died or lost the
// database for longer than LeaseTTL) is taken over. While a Store holds the
// lease, its writes are fenced by it: each statement writes only if the
// lease is still its own and unexpired, so a holder that lost its lease
// (taken over after a network partition) stops with an error wrapping
// hpo.ErrStorage and hpo.ErrLocked instead of writing over its successor.
//
// CheckpointDir keeps an experiment's checkpoints in a folder that every
// machine mounts at the same path instead (large models); its writes are
// fenced by a check of the lease just before them.
//
// # Workers
//
// Store.Remote is an hpo.Remote (Experiment.Remote): the runner queues
// each training job as a row of hgdtune_tasks and waits for it (LISTEN/
// NOTIFY wakes it at once; it also looks every Poll). Worker processes on
// any machine take tasks with SELECT … FOR UPDATE SKIP LOCKED, renew a
// lease on each while they train, and store its checkpoint, result and end
// in one transaction that first checks that the task is still theirs: a
// worker that died is replaced after its lease (the task is trained again
// from its checkpoint), and a late result of one that was only cut off is
// dropped. A runner that takes an experiment over deletes its
// predecessor's tasks; its replay queues them again. With Worker.Own a
// worker also takes over the scheduling of started experiments whose
// runner died. Status reads experiments, tasks and workers.
//
// Measured (docs/results/pgstore-workers.md: 2 cores shared by the server,
// the runner and the workers; go test -bench HandOut): a task's round trip
// takes 2.8–3.3 ms (median) with one worker, 6–7 ms with 4 and 19–21 ms
// with 16, for 250–460 trials/s; TestKillWorkers kills three worker
// processes (the scheduling owner every other time) eight times with
// SIGKILL and requires the journal and the report of an uninterrupted run
// on a folder; a dead worker's task is taken again after about one lease.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hgdtune/hgdtune/hpo"
)

// Errors of Open. Errors of the Storage methods wrap hpo.ErrStorage (the
// database failed) or hpo.ErrLocked (the lease).
var (
	// ErrUnreachable reports that no session could be opened: the server
	// cannot be reached, refused the credentials, or has no such database.
	// The message names host:port, never the password.
	ErrUnreachable = errors.New("pgstore: cannot connect to PostgreSQL")
	// ErrSchemaTooNew reports a database migrated by a newer program.
	ErrSchemaTooNew = errors.New("pgstore: the database's schema is newer than this program")
	// ErrSettingsMismatch reports an experiment name that exists with
	// other settings.
	ErrSettingsMismatch = errors.New("pgstore: the experiment exists with other settings")
)

// DefaultLeaseTTL is how long a lease lives without being renewed.
const DefaultLeaseTTL = 30 * time.Second

// journalTimeout bounds a journal append, which has no context of its own.
const journalTimeout = time.Minute

// Option changes a Store's defaults.
type Option func(*Store)

// LeaseTTL sets how long the lock's lease lives without renewal (default
// DefaultLeaseTTL, at least a second): a crashed holder blocks the
// experiment that long, and a holder cut off from the database for that
// long loses it.
func LeaseTTL(d time.Duration) Option {
	return func(s *Store) { s.ttl = max(d, time.Second) }
}

// Store is one experiment in a PostgreSQL database: an hpo.Storage. Its
// methods may be called from several goroutines.
type Store struct {
	pool *pgxpool.Pool
	name string
	id   int64
	addr string // host:port, for messages
	db   string
	url  string // to open the listening connection of Remote
	// shared: the pool belongs to a Worker, not to this Store.
	shared bool
	ttl    time.Duration
	// renew is how often the heartbeat renews the lease (RenewEvery;
	// ttl/3 when 0).
	renew time.Duration
	poll  time.Duration // see Poll
	// listenURL is where the connection that LISTENs goes (ListenURL;
	// url when empty).
	listenURL string
	// ckptDir is the shared folder of checkpoints (CheckpointDir), "" to
	// keep them in the database.
	ckptDir string

	mu     sync.Mutex
	lease  *lease  // held by this Store, or nil
	waiter *waiter // Remote's listener, started by its first task
}

var _ hpo.Storage = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string, as libpq takes), creates or migrates its tables, and
// opens the experiment called name with settings (JSON; nil means null),
// creating it if it does not exist. It fails with ErrUnreachable when it
// cannot connect, ErrSchemaTooNew for a newer database and
// ErrSettingsMismatch for an experiment with other settings. Close the
// Store when done.
func Open(ctx context.Context, url, name string, settings []byte, opts ...Option) (*Store, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: pgstore: empty experiment name", hpo.ErrInvalid)
	}
	if settings == nil {
		settings = []byte("null")
	}
	var o Store
	for _, opt := range opts {
		opt(&o)
	}
	if o.ckptDir != "" && !filepath.IsAbs(o.ckptDir) {
		return nil, fmt.Errorf("%w: pgstore: CheckpointDir %q is not an absolute path (every machine must see the same folder at the same path)", hpo.ErrInvalid, o.ckptDir)
	}
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return nil, fmt.Errorf("%w: pgstore: experiment name %q is not a relative path (it names the experiment's folder under CheckpointDir)", hpo.ErrInvalid, name)
	}
	if !json.Valid(settings) {
		return nil, fmt.Errorf("%w: pgstore: the settings of experiment %q are not JSON", hpo.ErrInvalid, name)
	}
	s, err := dial(ctx, url, opts...)
	if err != nil {
		return nil, err
	}
	s.name = name
	if err := s.openExperiment(ctx, settings); err != nil {
		s.pool.Close()
		return nil, err
	}
	return s, nil
}

// RenewEvery makes the heartbeat renew the lease every d instead of every
// third of the TTL: shorter on a network that drops packets.
func RenewEvery(d time.Duration) Option { return func(s *Store) { s.renew = d } }

// ListenURL sends the one connection that waits for notifications (LISTEN:
// a Remote's results) to url instead of the Store's URL: for a Store whose
// URL goes through a connection pooler that does not pass LISTEN on
// (PgBouncer in transaction mode), url reaches the database directly.
func ListenURL(url string) Option { return func(s *Store) { s.listenURL = url } }

// listenAt is the URL of the connections that LISTEN.
func (s *Store) listenAt() string {
	if s.listenURL != "" {
		return s.listenURL
	}
	return s.url
}

// CheckpointDir keeps the experiment's checkpoints in folder dir (an
// absolute path that every machine mounts at the same place, for models
// too large for database rows) instead of the database: checkpoint key of
// experiment name is the folder dir/name/checkpoints/key. The experiment records its
// folder when it is created; opening it with another one is
// ErrSettingsMismatch, and workers use the recorded one.
func CheckpointDir(dir string) Option {
	return func(s *Store) { s.ckptDir = dir }
}

// dial connects to the database at url and creates or migrates its
// tables: a Store without an experiment yet.
func dial(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts passwords from the string it quotes only on a best
		// effort basis: quote nothing.
		return nil, fmt.Errorf("%w: the connection URL cannot be parsed (want postgres://user:password@host:port/database)", ErrUnreachable)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 15 * time.Second
	}
	s := &Store{ttl: DefaultLeaseTTL, db: cfg.ConnConfig.Database, url: url,
		addr: net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))}
	for _, o := range opts {
		o(s)
	}
	if s.renew < 0 || s.renew >= s.ttl {
		return nil, fmt.Errorf("%w: pgstore: a renewal every %v must be shorter than the lease (%v), or 0", hpo.ErrInvalid, s.renew, s.ttl)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, s.connectError(err, cfg.ConnConfig.Password)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, s.connectError(err, cfg.ConnConfig.Password)
	}
	s.pool = pool
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// connectError explains a failure to open a session, naming the server and
// never the password.
func (s *Store) connectError(err error, password string) error {
	var why string
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && (pgErr.Code == "28P01" || pgErr.Code == "28000"):
		why = "the server refused the credentials: " + pgErr.Message
	case errors.As(err, &pgErr) && pgErr.Code == "3D000":
		why = "no such database: " + pgErr.Message
	case errors.As(err, &pgErr):
		why = pgErr.Message + " (SQLSTATE " + pgErr.Code + ")"
	default:
		why = cause(err).Error()
	}
	if password != "" {
		why = strings.ReplaceAll(why, password, "xxxxx")
	}
	return fmt.Errorf("%w at %s: %s", ErrUnreachable, s.addr, why)
}

// cause drops pgx's wrappers (which quote the user and database) down to
// the network error.
func cause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("timed out")
	}
	return err
}

// String names the experiment and the server, never the password.
func (s *Store) String() string {
	if s.name == "" { // a worker's connections, or Status's
		return fmt.Sprintf("PostgreSQL at %s/%s", s.addr, s.db)
	}
	return fmt.Sprintf("experiment %q in PostgreSQL at %s/%s", s.name, s.addr, s.db)
}

// Name is the experiment's name.
func (s *Store) Name() string { return s.name }

// Close releases the lease if this Store holds it and closes the
// connections.
func (s *Store) Close() error {
	s.mu.Lock()
	l := s.lease
	s.mu.Unlock()
	var err error
	if l != nil {
		err = l.release()
	}
	s.mu.Lock()
	if s.waiter != nil {
		s.waiter.stop()
		s.waiter = nil
	}
	s.mu.Unlock()
	if !s.shared {
		s.pool.Close()
	}
	return err
}

// storageErr wraps a database failure while doing what.
func (s *Store) storageErr(err error, what string) error {
	return fmt.Errorf("%w: pgstore: %s of %s: %w", hpo.ErrStorage, what, s, err)
}

func (s *Store) openExperiment(ctx context.Context, settings []byte) error {
	for range 3 {
		var id int64
		var stored string
		var same bool
		var dir string
		err := s.pool.QueryRow(ctx, `SELECT id, settings::text, settings = $2::jsonb, checkpoint_dir FROM hgdtune_experiments WHERE name = $1`,
			s.name, string(settings)).Scan(&id, &stored, &same, &dir)
		switch {
		case err == nil && same && dir != s.ckptDir:
			return fmt.Errorf("%w: %s keeps its checkpoints in %s; this program was given %s", ErrSettingsMismatch, s, where(dir), where(s.ckptDir))
		case err == nil && same:
			s.id = id
			return nil
		case err == nil:
			return fmt.Errorf("%w: %s was created with other settings (%s)", ErrSettingsMismatch, s, differing([]byte(stored), settings))
		case !errors.Is(err, pgx.ErrNoRows):
			return s.storageErr(err, "reading the experiment")
		}
		err = s.pool.QueryRow(ctx, `INSERT INTO hgdtune_experiments (name, settings, checkpoint_dir) VALUES ($1, $2::jsonb, $3)
			ON CONFLICT (name) DO NOTHING RETURNING id`, s.name, string(settings), s.ckptDir).Scan(&id)
		if err == nil {
			s.id = id
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return s.storageErr(err, "creating the experiment")
		}
		// Created by another program meanwhile: compare with its settings.
	}
	return fmt.Errorf("%w: pgstore: %s: could not create or read the experiment", hpo.ErrStorage, s)
}

// where names a checkpoint folder, "" being the database.
func where(dir string) string {
	if dir == "" {
		return "the database"
	}
	return "folder " + dir
}

// differing names the fields in which two JSON values differ, as
// "path: stored → given" with dotted paths into nested objects
// ("preset.budget: \"4s\" → \"3s\""), values cut to 40 characters; "the
// settings differ" when they cannot be told apart so.
func differing(a, b []byte) string {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return "the settings differ"
	}
	var out []string
	diffJSON("", va, vb, &out)
	if len(out) == 0 {
		return "the settings differ"
	}
	return strings.Join(out, "; ")
}

func diffJSON(path string, a, b any, out *[]string) {
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	if okA && okB {
		keys := map[string]bool{}
		for k := range ma {
			keys[k] = true
		}
		for k := range mb {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			p := k
			if path != "" {
				p = path + "." + k
			}
			diffJSON(p, ma[k], mb[k], out)
		}
		return
	}
	if reflect.DeepEqual(a, b) {
		return
	}
	show := func(v any) string {
		if v == nil {
			return "(none)"
		}
		j, _ := json.Marshal(v)
		if s := string(j); len(s) <= 40 {
			return s
		}
		return string(j[:37]) + "…"
	}
	*out = append(*out, fmt.Sprintf("%s: %s → %s", path, show(a), show(b)))
}
