package hpo_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/internal/storagetest"
	"github.com/hgdtune/hgdtune/internal/dirlock"
)

func TestDirStorageConformance(t *testing.T) {
	storagetest.Run(t, storagetest.Harness{
		New:   func(t *testing.T) hpo.Storage { return hpo.DirStorage(t.TempDir()) },
		Again: func(_ *testing.T, st hpo.Storage) hpo.Storage { return st },
		// The kernel drops a dead process's flock: as a release.
		Abandon: func(t *testing.T, _ hpo.Storage, release func() error) {
			if err := release(); err != nil {
				t.Fatal(err)
			}
		},
		Tear: func(t *testing.T, st hpo.Storage) {
			f, err := os.OpenFile(filepath.Join(string(st.(hpo.DirStorage)), "journal.jsonl"), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString(`{"seq":9,"ev":"tri`); err != nil {
				t.Fatal(err)
			}
		},
	})
}

// An experiment in a DirStorage is read back by LoadReportFrom, without
// its lock, as it ran (configurations stay JSON: no space is given).
func TestDirStorageLoadReportFrom(t *testing.T) {
	e, _ := synth(mustASHA(t, ashaPromotion()), 1, 6, t.TempDir())
	rep, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := hpo.LoadReportFrom(context.Background(), e.Storage)
	if err != nil {
		t.Fatal(err)
	}
	rep.Space = nil
	for i := range rep.Records {
		loaded.Records[i].Config, rep.Records[i].Config = nil, nil
	}
	for i := range rep.Trials {
		loaded.Trials[i].Config, rep.Trials[i].Config = nil, nil
	}
	sameReport(t, loaded, rep)
}

// A locked folder's error matches both hpo.ErrLocked and dirlock.ErrLocked.
func TestDirStorageLockedErrors(t *testing.T) {
	st := hpo.DirStorage(t.TempDir())
	release, err := st.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	e, _ := synth(mustASHA(t, ashaPromotion()), 1, 4, "")
	e.Storage = st
	_, err = hpo.Run(context.Background(), e)
	if !errors.Is(err, hpo.ErrLocked) || !errors.Is(err, dirlock.ErrLocked) {
		t.Fatalf("run on a locked folder: %v, want hpo.ErrLocked and dirlock.ErrLocked", err)
	}
}
