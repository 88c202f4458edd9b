// Package storagetest is the conformance test of hpo.Storage: what Run
// relies on, checked against every implementation (hpo.DirStorage in hpo's
// tests, pgstore.Store in pgstore's).
package storagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
)

// Harness is a storage under test.
type Harness struct {
	// New returns the storage of a new, empty experiment.
	New func(t *testing.T) hpo.Storage
	// Again returns another handle on st's experiment, as another process
	// would open it.
	Again func(t *testing.T, st hpo.Storage) hpo.Storage
	// Abandon makes the holder of st's lock, whose release function is
	// release, vanish without releasing it (as a killed process does), and
	// returns once the lock is free for others to take.
	Abandon func(t *testing.T, st hpo.Storage, release func() error)
	// Tear leaves half an event at the end of st's journal, as a writer
	// killed in the middle of a write does; nil for a storage that writes
	// events whole.
	Tear func(t *testing.T, st hpo.Storage)
	// SeqGuard says that the storage refuses an event whose number
	// another writer took (a database's primary key); a folder relies on
	// its lock alone.
	SeqGuard bool
}

// Run runs the conformance tests of h's storage.
func Run(t *testing.T, h Harness) {
	t.Run("Journal", func(t *testing.T) { testJournal(t, h) })
	t.Run("TornTail", func(t *testing.T) { testTornTail(t, h) })
	t.Run("DuplicateSeq", func(t *testing.T) { testDuplicateSeq(t, h) })
	t.Run("Checkpoints", func(t *testing.T) { testCheckpoints(t, h) })
	t.Run("Atomicity", func(t *testing.T) { testAtomicity(t, h) })
	t.Run("Lock", func(t *testing.T) { testLock(t, h) })
	t.Run("Takeover", func(t *testing.T) { testTakeover(t, h) })
	t.Run("LoadReportWhileLocked", func(t *testing.T) { testLoadReportWhileLocked(t, h) })
}

var ctx = context.Background()

// events is a small valid journal: a header, a trial started, its result,
// an exploit.
func events() []hpo.Event {
	from := hpo.TrialID(0)
	// Configurations as the runner encodes them (json.Marshal: sorted
	// keys, HTML characters escaped).
	cfg := func(c hpo.Config) json.RawMessage {
		b, err := json.Marshal(c)
		if err != nil {
			panic(err)
		}
		return b
	}
	return []hpo.Event{
		{Kind: hpo.EvExperiment, Trial: -1, Seed: 7, Slots: 1, Metric: "acc", Goal: "max", Params: []string{"lr", "opt"}},
		{Kind: hpo.EvTrial, Trial: 0, Config: cfg(hpo.Config{"lr": 0.001, "opt": "sgd <&> é"})},
		{Kind: hpo.EvDecision, Trial: 0, Action: "start", Until: 3},
		{Kind: hpo.EvResult, Trial: 0, Budget: 3, Elapsed: 3e9, Metrics: map[string]float64{"acc": 0.25, "loss": 1.0 / 3}, Checkpoint: "t000000/b000003"},
		{Kind: hpo.EvDecision, Trial: 0, Action: "exploit", Until: 6, From: &from, Config: cfg(hpo.Config{"lr": 1e-5, "opt": "sgd <&> é"})},
	}
}

// appendAll appends evs through w, checking the numbers it gives them.
func appendAll(t *testing.T, w hpo.JournalWriter, first int64, evs []hpo.Event) {
	t.Helper()
	for i := range evs {
		e := evs[i]
		if err := w.Append(&e); err != nil {
			t.Fatalf("append event %d: %v", i, err)
		}
		if want := first + int64(i); e.Seq != want {
			t.Fatalf("event %d appended with seq %d, want %d", i, e.Seq, want)
		}
		if e.Sum == "" {
			t.Fatalf("event %d appended without a checksum: the writer must seal it (hpo.SealEvent)", i)
		}
		evs[i].Sum = e.Sum // as the journal reads it back
	}
}

// sameEvents fails unless got are want (appended from seq 0), as JSON.
func sameEvents(t *testing.T, what string, got, want []hpo.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range want {
		w := want[i]
		w.Seq = int64(i)
		a, _ := json.Marshal(got[i])
		b, _ := json.Marshal(w)
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: event %d is\n%s\nwant\n%s", what, i, a, b)
		}
		// Replay compares configurations byte for byte.
		if !bytes.Equal(got[i].Config, w.Config) {
			t.Fatalf("%s: event %d's config is %s, want %s", what, i, got[i].Config, w.Config)
		}
	}
}

func openJournal(t *testing.T, st hpo.Storage) ([]hpo.Event, hpo.JournalWriter) {
	t.Helper()
	evs, w, err := st.OpenJournal(ctx)
	if err != nil {
		t.Fatalf("OpenJournal: %v", err)
	}
	return evs, w
}

func readJournal(t *testing.T, st hpo.Storage) []hpo.Event {
	t.Helper()
	evs, err := st.ReadJournal(ctx)
	if err != nil {
		t.Fatalf("ReadJournal: %v", err)
	}
	return evs
}

func testJournal(t *testing.T, h Harness) {
	st := h.New(t)
	evs, w := openJournal(t, st)
	if len(evs) != 0 {
		t.Fatalf("a new experiment's journal has %d events", len(evs))
	}
	want := events()
	appendAll(t, w, 0, want[:3])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	other := h.Again(t, st)
	sameEvents(t, "read by another handle", readJournal(t, other), want[:3])
	evs, w = openJournal(t, other)
	sameEvents(t, "reopened", evs, want[:3])
	appendAll(t, w, 3, want[3:])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sameEvents(t, "after appending on reopening", readJournal(t, st), want)
}

func testTornTail(t *testing.T, h Harness) {
	if h.Tear == nil {
		t.Skip("this storage writes every event whole: there is no torn tail")
	}
	st := h.New(t)
	_, w := openJournal(t, st)
	want := events()
	appendAll(t, w, 0, want[:2])
	w.Close()
	h.Tear(t, st)
	sameEvents(t, "read with a torn tail", readJournal(t, st), want[:2])
	evs, w := openJournal(t, st)
	sameEvents(t, "opened with a torn tail", evs, want[:2])
	appendAll(t, w, 2, want[2:])
	w.Close()
	sameEvents(t, "appended after the torn tail", readJournal(t, st), want)
}

func testDuplicateSeq(t *testing.T, h Harness) {
	if !h.SeqGuard {
		t.Skip("this storage relies on its lock alone to keep a second writer out")
	}
	st := h.New(t)
	_, w := openJournal(t, st)
	want := events()
	appendAll(t, w, 0, want[:1])
	_, w1 := openJournal(t, st)
	_, w2 := openJournal(t, h.Again(t, st))
	appendAll(t, w1, 1, want[1:2])
	e := want[2]
	err := w2.Append(&e)
	if !errors.Is(err, hpo.ErrStorage) {
		t.Fatalf("second writer's event 1: %v, want an error wrapping ErrStorage", err)
	}
	if err := w2.Append(&e); err == nil {
		t.Fatal("the second writer took another event after its failure")
	}
	sameEvents(t, "after the second writer's failure", readJournal(t, st), want[:2])
	appendAll(t, w1, 2, want[2:3])
}

// tree is a checkpoint folder's content: relative path → file content, or
// "/" for a folder.
type tree map[string]string

func nested(tag string) tree {
	return tree{
		"state.json":        `{"step":` + tag + `}`,
		"weights":           "/",
		"weights/deep":      "/",
		"weights/layer0":    strings.Repeat("w"+tag, 1000),
		"weights/deep/more": "more " + tag,
		"weights/empty.bin": "",
		"optimizer":         "/",
		"optimizer/nested":  "/",
	}
}

// String lists the tree's paths and sizes.
func (tr tree) String() string {
	var parts []string
	for p, c := range tr {
		if c == "/" {
			parts = append(parts, p+"/")
		} else {
			parts = append(parts, fmt.Sprintf("%s (%d bytes)", p, len(c)))
		}
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, " ") + "]"
}

func writeTree(tr tree) func(string) error {
	return func(dir string) error {
		if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
			return fmt.Errorf("save into %s: want an empty folder (%d entries, %v)", dir, len(ents), err)
		}
		paths := make([]string, 0, len(tr))
		for p := range tr {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			full := filepath.Join(dir, filepath.FromSlash(p))
			if tr[p] == "/" {
				if err := os.MkdirAll(full, 0o755); err != nil {
					return err
				}
				continue
			}
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(full, []byte(tr[p]), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
}

func readTree(dir string) (tree, error) {
	tr := tree{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			tr[filepath.ToSlash(rel)] = "/"
			return nil
		}
		b, err := os.ReadFile(p)
		tr[filepath.ToSlash(rel)] = string(b)
		return err
	})
	return tr, err
}

// load returns checkpoint key's tree, or the error of LoadCheckpoint.
func load(st hpo.Storage, key string) (tree, error) {
	var tr tree
	err := st.LoadCheckpoint(ctx, key, func(dir string) error {
		var err error
		tr, err = readTree(dir)
		return err
	})
	return tr, err
}

func mustLoad(t *testing.T, st hpo.Storage, key string, want tree) {
	t.Helper()
	got, err := load(st, key)
	if err != nil {
		t.Fatalf("load %s: %v", key, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("checkpoint %s holds %s, want %s", key, got, want)
	}
}

func mustBeMissing(t *testing.T, st hpo.Storage, key string) {
	t.Helper()
	_, err := load(st, key)
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, hpo.ErrStorage) {
		t.Fatalf("load of missing checkpoint %s: %v, want an error wrapping fs.ErrNotExist and not ErrStorage", key, err)
	}
}

func testCheckpoints(t *testing.T, h Harness) {
	st := h.New(t)
	const src, dst = "t000001/b000003", "t000002/b000003-from1"
	if err := st.SaveCheckpoint(ctx, src, writeTree(nested("1"))); err != nil {
		t.Fatalf("save: %v", err)
	}
	other := h.Again(t, st)
	mustLoad(t, other, src, nested("1"))
	if err := st.CopyCheckpoint(ctx, src, dst); err != nil {
		t.Fatalf("copy: %v", err)
	}
	mustLoad(t, other, dst, nested("1"))
	// Saving again replaces the whole folder.
	smaller := tree{"state.json": "2"}
	if err := st.SaveCheckpoint(ctx, src, writeTree(smaller)); err != nil {
		t.Fatalf("save again: %v", err)
	}
	mustLoad(t, st, src, smaller)
	mustLoad(t, st, dst, nested("1")) // a copy is independent of its source
	// Copying over an existing checkpoint replaces it.
	if err := st.CopyCheckpoint(ctx, src, dst); err != nil {
		t.Fatalf("copy over: %v", err)
	}
	mustLoad(t, st, dst, smaller)
	if err := st.RemoveCheckpoint(ctx, src); err != nil {
		t.Fatalf("remove: %v", err)
	}
	mustBeMissing(t, other, src)
	mustLoad(t, other, dst, smaller)
	if err := st.RemoveCheckpoint(ctx, src); err != nil {
		t.Fatalf("remove of a missing checkpoint: %v", err)
	}
	// A missing source is the source's problem, not the storage's.
	err := st.CopyCheckpoint(ctx, src, "t000003/b000003-from1")
	if err == nil || errors.Is(err, hpo.ErrStorage) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("copy of a missing checkpoint: %v, want an error wrapping fs.ErrNotExist and not ErrStorage", err)
	}
	mustBeMissing(t, st, "t000003/b000003-from1")
	for _, bad := range []string{"", "../escape", "/abs/path"} {
		if err := st.SaveCheckpoint(ctx, bad, writeTree(smaller)); err == nil {
			t.Errorf("save under the name %q succeeded", bad)
		}
	}
}

func testAtomicity(t *testing.T, h Harness) {
	st := h.New(t)
	const key = "t000004/b000009"
	boom := errors.New("boom: the trainable failed halfway")
	halfway := func(dir string) error {
		if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte("half"), 0o644); err != nil {
			return err
		}
		return boom
	}
	err := st.SaveCheckpoint(ctx, key, halfway)
	if !errors.Is(err, boom) || errors.Is(err, hpo.ErrStorage) {
		t.Fatalf("save whose writer fails: %v, want the writer's error as it is", err)
	}
	mustBeMissing(t, h.Again(t, st), key)
	if err := st.SaveCheckpoint(ctx, key, writeTree(nested("4"))); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveCheckpoint(ctx, key, halfway); !errors.Is(err, boom) {
		t.Fatalf("second save whose writer fails: %v", err)
	}
	mustLoad(t, h.Again(t, st), key, nested("4"))
}

func lock(t *testing.T, st hpo.Storage) func() error {
	t.Helper()
	release, err := st.Lock(ctx)
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	return release
}

func mustBeLocked(t *testing.T, st hpo.Storage) {
	t.Helper()
	release, err := st.Lock(ctx)
	if err == nil {
		release()
		t.Fatal("a second holder took the lock")
	}
	if !errors.Is(err, hpo.ErrLocked) || !strings.Contains(err.Error(), "held by") {
		t.Fatalf("lock of a held experiment: %v, want an error wrapping ErrLocked naming the holder", err)
	}
}

func testLock(t *testing.T, h Harness) {
	st := h.New(t)
	release := lock(t, st)
	other := h.Again(t, st)
	mustBeLocked(t, other)
	mustBeLocked(t, st) // one runner per experiment, in one process too
	if err := release(); err != nil {
		t.Fatalf("release: %v", err)
	}
	release = lock(t, other)
	mustBeLocked(t, st)
	if err := release(); err != nil {
		t.Fatalf("release: %v", err)
	}
}

func testTakeover(t *testing.T, h Harness) {
	st := h.New(t)
	release := lock(t, st)
	h.Abandon(t, st, release)
	other := h.Again(t, st)
	release = lock(t, other)
	mustBeLocked(t, h.Again(t, st))
	if err := release(); err != nil {
		t.Fatalf("release after takeover: %v", err)
	}
}

func testLoadReportWhileLocked(t *testing.T, h Harness) {
	st := h.New(t)
	release := lock(t, st)
	defer release()
	_, w := openJournal(t, st)
	appendAll(t, w, 0, events()[:4])
	defer w.Close()
	rep, err := hpo.LoadReportFrom(ctx, h.Again(t, st))
	if err != nil {
		t.Fatalf("LoadReportFrom while the lock is held: %v", err)
	}
	if len(rep.Records) != 1 || rep.Records[0].Metrics["acc"] != 0.25 || len(rep.Curve) != 1 || len(rep.Trials) != 1 {
		t.Fatalf("report while the lock is held: %+v", rep)
	}
	if tr := rep.Trials[0]; tr.Checkpoint != "t000000/b000003" || tr.Config["opt"] != "sgd <&> é" {
		t.Fatalf("trial %+v", tr)
	}
	// The reader took no lock: the holder still holds it.
	mustBeLocked(t, h.Again(t, st))
}
