package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hgdtune/hgdtune/hpo"
)

// lease is the experiment's lease as this Store holds it.
type lease struct {
	s     *Store
	owner string

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	mu   sync.Mutex
	lost error // why the lease was lost, or nil

	releaseOnce sync.Once
	releaseErr  error
}

// leaseHeld is the condition of a fenced write: the statement's owner
// parameter $n is "" (the Store holds no lease: no fence) or the owner of
// the experiment's ($1) unexpired lease.
func leaseHeld(n int) string {
	return fmt.Sprintf(`($%[1]d = '' OR EXISTS (SELECT 1 FROM hgdtune_leases
		WHERE experiment = $1 AND owner = $%[1]d AND expires > now()))`, n)
}

// fence returns the owner id to fence a write with: "" when the Store holds
// no lease, an error when it held one and lost it.
func (s *Store) fence() (string, error) {
	s.mu.Lock()
	l := s.lease
	s.mu.Unlock()
	if l == nil {
		return "", nil
	}
	if err := l.lostErr(); err != nil {
		return "", err
	}
	return l.owner, nil
}

// lostLease is the error of a fenced write that wrote nothing: the lease
// expired or was taken over. It marks the lease lost.
func (s *Store) lostLease() error {
	s.mu.Lock()
	l := s.lease
	s.mu.Unlock()
	if l == nil {
		return fmt.Errorf("%w: %w: pgstore: %s: the lease was released during the write", hpo.ErrStorage, hpo.ErrLocked, s)
	}
	l.setLost(errors.New("it expired or another runner took it over"))
	return l.lostErr()
}

func (l *lease) setLost(why error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost == nil {
		l.lost = fmt.Errorf("%w: %w: pgstore: %s: this runner lost its lease (%v), so it may not write: another runner may own the experiment now",
			hpo.ErrStorage, hpo.ErrLocked, l.s, why)
	}
}

func (l *lease) lostErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// Lock implements hpo.Storage: it takes the experiment's lease, or takes
// over an expired one, and renews it every third of LeaseTTL (RenewEvery) until
// release. A live lease of another holder (or of this Store) is an error
// wrapping hpo.ErrLocked that names it.
func (s *Store) Lock(ctx context.Context) (func() error, error) {
	owner := randomID()
	holder := describeHolder(owner)
	for range 3 {
		var got string
		err := s.pool.QueryRow(ctx, `INSERT INTO hgdtune_leases AS l (experiment, owner, holder, acquired, expires)
			VALUES ($1, $2, $3, now(), now() + make_interval(secs => $4))
			ON CONFLICT (experiment) DO UPDATE
				SET owner = excluded.owner, holder = excluded.holder, acquired = excluded.acquired, expires = excluded.expires
				WHERE l.expires <= now()
			RETURNING l.owner`, s.id, owner, holder, s.ttl.Seconds()).Scan(&got)
		if err == nil {
			if err := s.purgeTasks(ctx, owner); err != nil {
				s.pool.Exec(context.WithoutCancel(ctx), `DELETE FROM hgdtune_leases WHERE experiment = $1 AND owner = $2`, s.id, owner)
				return nil, err
			}
			l := &lease{s: s, owner: owner, stop: make(chan struct{}), done: make(chan struct{})}
			s.mu.Lock()
			s.lease = l
			s.mu.Unlock()
			go l.heartbeat()
			return l.release, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return nil, s.storageErr(err, "taking the lease")
		}
		var other string
		var left float64
		err = s.pool.QueryRow(ctx, `SELECT holder, extract(epoch FROM expires - now()) FROM hgdtune_leases WHERE experiment = $1`,
			s.id).Scan(&other, &left)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // released meanwhile: try again
		}
		if err != nil {
			return nil, s.storageErr(err, "reading the lease")
		}
		return nil, fmt.Errorf("%w: %s is held by %s, whose lease runs %v more unless renewed; wait for it to finish or stop it (a holder that died blocks the experiment until its lease expires)",
			hpo.ErrLocked, s, other, time.Duration(left*float64(time.Second)).Round(time.Second/10))
	}
	return nil, fmt.Errorf("%w: %s: the lease changed hands three times while taking it", hpo.ErrLocked, s)
}

// heartbeat renews the lease until stopped. A lease that cannot be renewed
// (it is gone, or the database was unreachable for longer than LeaseTTL)
// is lost: the Store's writes fail from then on.
func (l *lease) heartbeat() {
	defer close(l.done)
	s := l.s
	every := s.ttl / 3
	if s.renew > 0 {
		every = s.renew
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	renewed := time.Now()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		tag, err := s.pool.Exec(ctx, `UPDATE hgdtune_leases SET expires = now() + make_interval(secs => $3)
			WHERE experiment = $1 AND owner = $2 AND expires > now()`, s.id, l.owner, s.ttl.Seconds())
		cancel()
		switch {
		case err == nil && tag.RowsAffected() == 1:
			renewed = time.Now()
		case err == nil:
			l.setLost(errors.New("it expired or another runner took it over"))
			return
		case time.Since(renewed) >= s.ttl:
			l.setLost(fmt.Errorf("not renewed for %v: %w", s.ttl, err))
			return
		}
	}
}

func (l *lease) stopHeartbeat() {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
}

// release stops the heartbeat and deletes the lease. It reports a lease
// that was lost meanwhile.
func (l *lease) release() error {
	l.releaseOnce.Do(func() {
		l.stopHeartbeat()
		s := l.s
		s.mu.Lock()
		if s.lease == l {
			s.lease = nil
		}
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), journalTimeout)
		defer cancel()
		_, err := s.pool.Exec(ctx, `DELETE FROM hgdtune_leases WHERE experiment = $1 AND owner = $2`, s.id, l.owner)
		if lost := l.lostErr(); lost != nil {
			l.releaseErr = lost
		} else if err != nil {
			l.releaseErr = s.storageErr(err, "releasing the lease (it expires by itself)")
		}
	})
	return l.releaseErr
}

// randomID is a lease's owner id.
func randomID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// describeHolder is the line that names a lease's holder to others. It
// quotes the program's name only, not its arguments (which may hold a
// connection URL).
func describeHolder(owner string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("pid %d on %s (%s), since %s, lease %s", os.Getpid(), host,
		filepath.Base(os.Args[0]), time.Now().Format(time.RFC3339), owner[:8])
}
