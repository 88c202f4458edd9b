package hpo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
)

// sameReport fails unless got (from LoadReport) is the report Run returned.
func sameReport(t *testing.T, got, want *hpo.Report) {
	t.Helper()
	if got.Reason != want.Reason || got.Elapsed != want.Elapsed || got.Metric != want.Metric {
		t.Fatalf("loaded reason %q elapsed %v metric %v, Run's %q %v %v", got.Reason, got.Elapsed, got.Metric, want.Reason, want.Elapsed, want.Metric)
	}
	if !reflect.DeepEqual(got.Curve, want.Curve) {
		t.Fatalf("loaded curve %v\nRun's %v", got.Curve, want.Curve)
	}
	if len(got.Records) != len(want.Records) {
		t.Fatalf("%d records loaded, Run's %d", len(got.Records), len(want.Records))
	}
	for i := range got.Records {
		if !reflect.DeepEqual(got.Records[i], want.Records[i]) {
			t.Fatalf("record %d loaded %+v\nRun's %+v", i, got.Records[i], want.Records[i])
		}
	}
	if len(got.Trials) != len(want.Trials) {
		t.Fatalf("%d trials loaded, Run's %d", len(got.Trials), len(want.Trials))
	}
	for i := range got.Trials {
		if !reflect.DeepEqual(got.Trials[i], want.Trials[i]) {
			t.Fatalf("trial %d loaded %+v\nRun's %+v", i, got.Trials[i], want.Trials[i])
		}
	}
}

// listing returns the files of dir with their sizes and times.
func listing(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			out[p] = fmt.Sprint(fi.ModTime(), fi.Mode(), fi.Size())
		}
		return nil
	})
	return out
}

// load reads dir with LoadReportSpace, and with LoadReport, whose
// configurations must be the same once decoded into the space; it checks
// that neither wrote anything.
func load(t *testing.T, dir string, space hpo.Space) *hpo.Report {
	t.Helper()
	before := listing(t, dir)
	rep, err := hpo.LoadReportSpace(dir, space)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hpo.LoadReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(listing(t, dir), before) {
		t.Fatal("loading the report changed the folder")
	}
	if raw.Space != nil {
		t.Fatal("LoadReport without a space set Report.Space")
	}
	norm := func(c hpo.Config) hpo.Config {
		n, err := space.Normalize(c)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range raw.Trials {
		raw.Trials[i].Config = norm(raw.Trials[i].Config)
	}
	for i := range raw.Records {
		raw.Records[i].Config = norm(raw.Records[i].Config)
	}
	raw.Space = space
	sameReport(t, raw, rep)
	return rep
}

// LoadReport rebuilds, from the journal alone, the report Run returned:
// after a complete run, after an interrupted one, after a resumed one, and
// from the recorded journals of earlier versions.
func TestLoadReport(t *testing.T) {
	for _, c := range recordedCases() {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			e := c.exp(t, dir)
			rep, err := hpo.Run(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			sameReport(t, load(t, dir, e.Space), rep)

			// Interrupted at several points (the partial report, Reason
			// ""), then resumed.
			for _, stopAfter := range []int32{2, 7, 15} {
				d := t.TempDir()
				e := c.exp(t, d)
				ctx, cancel := context.WithCancel(context.Background())
				var steps atomic.Int32 // Train calls
				f := e.Factory
				e.Factory = func(fctx context.Context, id hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
					tr, err := f(fctx, id, cfg)
					return cancelAfter{tr, func() {
						if steps.Add(1) == stopAfter {
							cancel()
						}
					}}, err
				}
				part, err := hpo.Run(ctx, e)
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("interrupted run: %v", err)
				}
				sameReport(t, load(t, d, e.Space), part)
				e = c.exp(t, d)
				rest, err := hpo.Run(context.Background(), e)
				if err != nil {
					t.Fatal(err)
				}
				sameReport(t, load(t, d, e.Space), rest)
			}

			// The recorded journal, replayed by Run.
			want, err := os.ReadFile(filepath.Join("testdata", "journals", c.name+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, "journal.jsonl"), want, 0o644); err != nil {
				t.Fatal(err)
			}
			loaded := load(t, d, e.Space)
			replayed, err := hpo.Run(context.Background(), c.exp(t, d))
			if err != nil {
				t.Fatal(err)
			}
			sameReport(t, loaded, replayed)
		})
	}
}

// cancelAfter calls after once per Train.
type cancelAfter struct {
	hpo.Trainable
	after func()
}

func (c cancelAfter) Train(ctx context.Context, until int) (hpo.Result, error) {
	c.after()
	return c.Trainable.Train(ctx, until)
}

func (c cancelAfter) Reconfigure(cfg hpo.Config) error {
	if r, ok := c.Trainable.(hpo.Reconfigurer); ok {
		return r.Reconfigure(cfg)
	}
	return nil
}

func TestLoadReportErrors(t *testing.T) {
	if _, err := hpo.LoadReport(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty folder: %v", err)
	}
	// Created but killed before its header: an empty report.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "journal.jsonl"), []byte(`{"seq":0,"ev":"exper`), 0o644); err != nil {
		t.Fatal(err)
	}
	if rep, err := hpo.LoadReport(dir); err != nil || len(rep.Trials) != 0 || rep.Reason != "" {
		t.Fatalf("journal without its header: %+v, %v", rep, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "journal.jsonl"), []byte(`{"seq":0,"ev":"result","trial":0}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := hpo.LoadReport(dir); !errors.Is(err, hpo.ErrJournal) {
		t.Fatalf("journal without a header: %v", err)
	}
}
