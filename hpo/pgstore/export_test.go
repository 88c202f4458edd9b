package pgstore

import (
	"context"
	"time"
)

// Abandon stops st's lease heartbeat without releasing the lease, as if
// its process had died; with expire, the lease also expires at once, as
// if LeaseTTL had passed. st still believes it holds the lease.
func Abandon(ctx context.Context, st *Store, expire bool) error {
	st.mu.Lock()
	l := st.lease
	st.mu.Unlock()
	if l == nil {
		return nil
	}
	l.stopHeartbeat()
	if !expire {
		return nil
	}
	_, err := st.pool.Exec(ctx, `UPDATE hgdtune_leases SET expires = now() - interval '1 second' WHERE experiment = $1`, st.id)
	return err
}

// LeaseExpires returns the expiry of st's experiment's lease as the
// database holds it.
func LeaseExpires(ctx context.Context, st *Store) (time.Time, error) {
	var t time.Time
	err := st.pool.QueryRow(ctx, `SELECT expires FROM hgdtune_leases WHERE experiment = $1`, st.id).Scan(&t)
	return t, err
}

// KnownVersion is the schema version this program creates.
var KnownVersion = knownVersion

// CheckpointFolder is the checkpoint folder recorded for st's experiment.
func CheckpointFolder(ctx context.Context, st *Store) (string, error) {
	var dir string
	err := st.pool.QueryRow(ctx, `SELECT checkpoint_dir FROM hgdtune_experiments WHERE id = $1`, st.id).Scan(&dir)
	return dir, err
}
