package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hgdtune/hgdtune/hpo"
)

// ReadJournal implements hpo.Storage: the experiment's events in order,
// read in one statement (a consistent snapshot while a runner appends).
// Events whose numbers do not run 0, 1, 2, … are ErrJournal.
func (s *Store) ReadJournal(ctx context.Context) ([]hpo.Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, body::text FROM hgdtune_events WHERE experiment = $1 ORDER BY seq`, s.id)
	if err != nil {
		return nil, s.storageErr(err, "reading the journal")
	}
	defer rows.Close()
	var events []hpo.Event
	var chain hpo.JournalChain
	for rows.Next() {
		var seq int64
		var body string
		if err := rows.Scan(&seq, &body); err != nil {
			return nil, s.storageErr(err, "reading the journal")
		}
		if seq != int64(len(events)) {
			return nil, fmt.Errorf("%w: %s: event %d follows %d events", hpo.ErrJournal, s, seq, len(events))
		}
		var e hpo.Event
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			return nil, fmt.Errorf("%w: %s: event %d: %v", hpo.ErrJournal, s, seq, err)
		}
		if err := chain.Check([]byte(body), &e); err != nil {
			return nil, fmt.Errorf("%w: %s: event %d: %v", hpo.ErrJournal, s, seq, err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.storageErr(err, "reading the journal")
	}
	return events, nil
}

// OpenJournal implements hpo.Storage. There is never a torn event to drop.
func (s *Store) OpenJournal(ctx context.Context) ([]hpo.Event, hpo.JournalWriter, error) {
	events, err := s.ReadJournal(ctx)
	if err != nil {
		return nil, nil, err
	}
	j := &journal{s: s, seq: int64(len(events))}
	if n := len(events); n > 0 {
		j.last = events[n-1].Sum
	}
	return events, j, nil
}

// journal appends events, one row each.
type journal struct {
	s    *Store
	seq  int64
	last string // the last event's Sum
	err  error  // the first failure: the journal takes no more events
}

// Append implements hpo.JournalWriter. An event whose number another
// writer took is refused with an error wrapping hpo.ErrStorage.
func (j *journal) Append(e *hpo.Event) error {
	if j.err != nil {
		return j.err
	}
	e.Seq = j.seq
	if err := hpo.SealEvent(e, j.last); err != nil {
		return err
	}
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("%w: encode: %v", hpo.ErrJournal, err)
	}
	s := j.s
	owner, err := s.fence()
	if err != nil {
		j.err = err
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), journalTimeout)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `INSERT INTO hgdtune_events (experiment, seq, kind, body)
		SELECT $1::bigint, $2::bigint, $3::text, $4::json WHERE `+leaseHeld(5), s.id, e.Seq, e.Kind, string(body), owner)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505": // unique_violation
		j.err = fmt.Errorf("%w: pgstore: %s: journal event %d was written by another writer: only one runner may append (take the lock)",
			hpo.ErrStorage, s, e.Seq)
	case err != nil:
		j.err = s.storageErr(err, fmt.Sprintf("appending journal event %d", e.Seq))
	case tag.RowsAffected() == 0:
		j.err = s.lostLease()
	default:
		j.seq++
		j.last = e.Sum
	}
	return j.err
}

// Close implements hpo.JournalWriter; the Store stays open.
func (j *journal) Close() error { return nil }
