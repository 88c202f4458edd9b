package reproduce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/hgdtune/hgdtune/hpo"
)

// memStore is the hpo.Storage of an in-memory replay (Targets): no journal
// is kept, and the checkpoints are curve states in a map. Its
// SaveCheckpoint and LoadCheckpoint hand the trainable the name
// "mem:<key>" instead of a folder: only curveTrials built with the same
// store (memCurves) understand it, and they are the only trainables of a
// replay.
//
// With a journal path (a replay that writes a results folder), the store
// starts from the journal in that file, keeps the events appended in
// memory, and writeJournal writes the whole journal back at once when the
// run has ended: a replayed run takes milliseconds, so one that is
// interrupted is replayed again from its start.
type memStore struct {
	mu      sync.Mutex
	states  map[string]curveState
	path    string      // journal file; "" keeps none
	events  []hpo.Event // the journal read, then appended to
	written int         // events in the file
}

func newMemStore() *memStore { return &memStore{states: map[string]curveState{}} }

const memPrefix = "mem:"

// Lock implements hpo.Storage: the store is one run's alone.
func (m *memStore) Lock(context.Context) (func() error, error) {
	return func() error { return nil }, nil
}

// ReadJournal implements hpo.Storage.
func (m *memStore) ReadJournal(context.Context) ([]hpo.Event, error) {
	if err := m.read(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events), nil
}

// OpenJournal implements hpo.Storage.
func (m *memStore) OpenJournal(context.Context) ([]hpo.Event, hpo.JournalWriter, error) {
	if err := m.read(); err != nil {
		return nil, nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	j := &memJournal{m: m}
	if n := len(m.events); n > 0 {
		j.seq, j.last = m.events[n-1].Seq+1, m.events[n-1].Sum
	}
	return slices.Clone(m.events), j, nil
}

// read loads the journal file once.
func (m *memStore) read() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.path == "" || m.events != nil {
		return nil
	}
	events, _, err := hpo.ReadJournal(m.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s: %w", hpo.ErrStorage, m.path, err)
	}
	m.events = append([]hpo.Event{}, events...)
	m.written = len(events)
	return nil
}

// writeJournal writes the journal into its file, atomically, if events
// were appended.
func (m *memStore) writeJournal() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.path == "" || len(m.events) == m.written {
		return nil
	}
	var buf bytes.Buffer
	if err := hpo.WriteJournal(&buf, m.events); err != nil {
		return err
	}
	if err := writeFileAtomic(m.path, buf.Bytes()); err != nil {
		return err
	}
	m.written = len(m.events)
	return nil
}

// SaveCheckpoint implements hpo.Storage.
func (m *memStore) SaveCheckpoint(_ context.Context, key string, write func(dir string) error) error {
	return write(memPrefix + key)
}

// LoadCheckpoint implements hpo.Storage.
func (m *memStore) LoadCheckpoint(_ context.Context, key string, read func(dir string) error) error {
	m.mu.Lock()
	_, ok := m.states[key]
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("checkpoint %s: %w", key, fs.ErrNotExist)
	}
	return read(memPrefix + key)
}

// CopyCheckpoint implements hpo.Storage.
func (m *memStore) CopyCheckpoint(_ context.Context, src, dst string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.states[src]
	if !ok {
		return fmt.Errorf("checkpoint %s: %w", src, fs.ErrNotExist)
	}
	m.states[dst] = st
	return nil
}

// RemoveCheckpoint implements hpo.Storage.
func (m *memStore) RemoveCheckpoint(_ context.Context, key string) error {
	m.mu.Lock()
	delete(m.states, key)
	m.mu.Unlock()
	return nil
}

// save and load keep a curve state under a name "mem:<key>"; ok is false
// for a real folder.
func (m *memStore) save(dir string, st curveState) bool {
	key, ok := strings.CutPrefix(dir, memPrefix)
	if ok {
		m.mu.Lock()
		m.states[key] = st
		m.mu.Unlock()
	}
	return ok
}

func (m *memStore) load(dir string) (curveState, bool, error) {
	key, ok := strings.CutPrefix(dir, memPrefix)
	if !ok {
		return curveState{}, false, nil
	}
	m.mu.Lock()
	st, found := m.states[key]
	m.mu.Unlock()
	if !found {
		return curveState{}, true, fmt.Errorf("checkpoint %s: %w", key, fs.ErrNotExist)
	}
	return st, true, nil
}

// memJournal numbers events, and seals and keeps them when its store has
// a journal file.
type memJournal struct {
	m    *memStore
	seq  int64
	last string // the last event's Sum
}

func (j *memJournal) Append(e *hpo.Event) error {
	e.Seq = j.seq
	j.seq++
	if j.m.path != "" {
		if err := hpo.SealEvent(e, j.last); err != nil {
			return err
		}
		j.last = e.Sum
		j.m.mu.Lock()
		j.m.events = append(j.m.events, *e)
		j.m.mu.Unlock()
	}
	return nil
}

func (j *memJournal) Close() error { return nil }
