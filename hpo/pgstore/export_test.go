package pgstore

import "context"

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

// KnownVersion is the schema version this program creates.
var KnownVersion = knownVersion
