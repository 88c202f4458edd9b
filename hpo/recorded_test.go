package hpo_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/hpo/genetic"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/pbt"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

var updateJournals = flag.Bool("update-journals", false, "rewrite testdata/journals from fresh runs")

// resettable wraps a synthetic trainable as when the journal was recorded
// (it then also offered a no-op reset of adapted hyperparameters, which hpo
// no longer asks for; its journal's "reset" flags are ignored).
type resettable struct{ hpo.Trainable }

// recordedCase is an experiment whose journal, written by an earlier version
// of the runner, is kept in testdata/journals/<name>.jsonl.
type recordedCase struct {
	name string
	exp  func(t testing.TB, dir string) hpo.Experiment
}

func recordedCases() []recordedCase {
	return []recordedCase{
		// Exploits from Next and from OnResult, one slot.
		{"syncpbt", func(t testing.TB, dir string) hpo.Experiment {
			e, _ := synth(newSyncPBT(), 1, 0, dir)
			return e
		}},
		// ASHA (promotion) on two slots, with a trial cap.
		{"asha", func(t testing.TB, dir string) hpo.Experiment {
			e, _ := synth(mustASHA(t, asha.Config{MaxBudget: 9, Mode: asha.Promotion}), 2, 24, dir)
			return e
		}},
		// PBT on three slots: exploits with reset, a failing member replaced
		// by a trial that inherits a checkpoint.
		{"pbt", func(t testing.TB, dir string) hpo.Experiment {
			s, err := pbt.New(pbt.Config{Space: synthetic.Space(), PopulationSize: 6, Interval: 4, MaxBudget: 20, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			e, _ := synth(s, 3, 0, dir)
			f := e.Factory
			e.Factory = func(ctx context.Context, id hpo.TrialID, c hpo.Config) (hpo.Trainable, error) {
				tr, err := f(ctx, id, c)
				if id == 2 {
					return hpotest.FailingAt{Trainable: tr, At: 8}, err
				}
				return resettable{tr}, err
			}
			return e
		}},
		// The genetic algorithm's searcher under FIFO, two slots.
		{"genetic", func(t testing.TB, dir string) hpo.Experiment {
			s, err := genetic.New(genetic.Config{Space: synthetic.Space(), PopulationSize: 6, Generations: 3, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			e, _ := synth(&hpo.FIFO{MaxBudget: 8, Step: 4}, 2, 0, dir)
			e.Searcher = s
			return e
		}},
		// Stopping ASHA ended by the time budget.
		{"timebudget", func(t testing.TB, dir string) hpo.Experiment {
			e, _ := synth(mustASHA(t, asha.Config{MaxBudget: 27, Mode: asha.Stopping}), 3, 0, dir)
			e.TimeBudget = 150 * time.Second
			return e
		}},
	}
}

// Journals written by earlier versions of the runner replay identically:
// running each experiment again on its recorded journal replays it to its
// end without a divergence and without writing a line.
func TestRecordedJournalsReplay(t *testing.T) {
	for _, c := range recordedCases() {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join("testdata", "journals", c.name+".jsonl")
			if *updateJournals {
				dir := t.TempDir()
				if _, err := hpo.Run(context.Background(), c.exp(t, dir)); err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(filepath.Join(dir, "journal.jsonl"))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			jp := filepath.Join(dir, "journal.jsonl")
			if err := os.WriteFile(jp, want, 0o644); err != nil {
				t.Fatal(err)
			}
			rep, err := hpo.Run(context.Background(), c.exp(t, dir))
			if err != nil {
				t.Fatalf("replaying the recorded journal: %v", err)
			}
			if rep.Reason == "" {
				t.Fatal("the recorded journal did not replay to its end")
			}
			got, err := os.ReadFile(jp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("replaying the recorded journal changed it")
			}
		})
	}
}
