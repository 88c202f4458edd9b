package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrations[i] takes the schema from version i to version i+1. Append
// only: a released migration never changes.
var migrations = []string{
	// 1: the first schema.
	`CREATE TABLE hgdtune_schema_version (
		version integer PRIMARY KEY,
		applied timestamptz NOT NULL DEFAULT now()
	);
	CREATE TABLE hgdtune_experiments (
		id       bigserial PRIMARY KEY,
		name     text NOT NULL UNIQUE,
		settings jsonb NOT NULL,
		created  timestamptz NOT NULL DEFAULT now()
	);
	CREATE TABLE hgdtune_events (
		experiment bigint NOT NULL REFERENCES hgdtune_experiments (id) ON DELETE CASCADE,
		seq        bigint NOT NULL CHECK (seq >= 0),
		kind       text NOT NULL,
		body       json NOT NULL,
		PRIMARY KEY (experiment, seq)
	);
	CREATE TABLE hgdtune_checkpoints (
		experiment bigint NOT NULL REFERENCES hgdtune_experiments (id) ON DELETE CASCADE,
		key        text NOT NULL,
		data       bytea NOT NULL,
		size       bigint NOT NULL,
		written    timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (experiment, key)
	);
	CREATE TABLE hgdtune_leases (
		experiment bigint PRIMARY KEY REFERENCES hgdtune_experiments (id) ON DELETE CASCADE,
		owner      text NOT NULL,
		holder     text NOT NULL,
		acquired   timestamptz NOT NULL,
		expires    timestamptz NOT NULL
	);`,
	// 2: trials handed out to workers (Store.Remote, Worker); checkpoints
	// in a shared folder (CheckpointDir).
	`ALTER TABLE hgdtune_experiments ADD COLUMN checkpoint_dir text NOT NULL DEFAULT '';
	CREATE TABLE hgdtune_tasks (
		id         bigserial PRIMARY KEY,
		experiment bigint NOT NULL REFERENCES hgdtune_experiments (id) ON DELETE CASCADE,
		owner      text NOT NULL,
		trial      integer NOT NULL,
		body       json NOT NULL,
		queued     timestamptz NOT NULL DEFAULT now(),
		worker     text,
		claimed    timestamptz,
		expires    timestamptz,
		attempts   integer NOT NULL DEFAULT 0,
		done       timestamptz,
		result     json,
		error      text
	);
	CREATE INDEX hgdtune_tasks_open ON hgdtune_tasks (id) WHERE done IS NULL;
	CREATE TABLE hgdtune_workers (
		id      text PRIMARY KEY,
		holder  text NOT NULL,
		started timestamptz NOT NULL DEFAULT now(),
		seen    timestamptz NOT NULL DEFAULT now(),
		tasks   bigint NOT NULL DEFAULT 0
	);`,
}

// knownVersion is the version of the schema this program creates.
var knownVersion = len(migrations)

// migrateLockKey is the advisory lock that serializes migrations: "hgdtune"
// in ASCII.
const migrateLockKey int64 = 0x68676474756e65

// migrate brings the schema to knownVersion in one transaction, or refuses
// a newer one with ErrSchemaTooNew, writing nothing.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.storageErr(err, "migrating the schema")
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey); err != nil {
		return s.storageErr(err, "locking the schema")
	}
	v, err := schemaVersion(ctx, tx)
	if err != nil {
		return s.storageErr(err, "reading the schema version")
	}
	if v > knownVersion {
		return fmt.Errorf("%w: %s has schema version %d, this program knows versions up to %d: use a newer hgdtune (nothing was written)",
			ErrSchemaTooNew, s.where(), v, knownVersion)
	}
	if v == knownVersion {
		return nil // the deferred rollback ends the read-only transaction
	}
	for i := v; i < knownVersion; i++ {
		if _, err := tx.Exec(ctx, migrations[i]); err != nil {
			return s.storageErr(err, fmt.Sprintf("migrating the schema to version %d", i+1))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO hgdtune_schema_version (version) VALUES ($1)`, i+1); err != nil {
			return s.storageErr(err, fmt.Sprintf("recording schema version %d", i+1))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return s.storageErr(err, "committing the schema migration")
	}
	return nil
}

// schemaVersion is the schema's version, 0 for a database without it.
func schemaVersion(ctx context.Context, tx pgx.Tx) (int, error) {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('hgdtune_schema_version') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM hgdtune_schema_version`).Scan(&v)
	return v, err
}

// where names the database (before the experiment is open).
func (s *Store) where() string { return fmt.Sprintf("the database at %s/%s", s.addr, s.db) }
