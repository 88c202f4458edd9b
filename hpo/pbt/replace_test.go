package pbt_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/pbt"
)

// A member that fails is replaced by a new trial in its slot, which starts
// from a top member's checkpoint (journaled as a start decision with a
// donor, then the checkpoint copy): the population keeps its size, and as
// many members complete as the population holds.
func TestFailedMemberReplaced(t *testing.T) {
	for _, slots := range []int{1, 3} {
		t.Run(fmt.Sprintf("slots=%d", slots), func(t *testing.T) {
			const pop, failing = 6, hpo.TrialID(2)
			s := mustNew(t, pbt.Config{Space: spaceOf(), PopulationSize: pop, Interval: 4, MaxBudget: 20, Seed: 3})
			e, p := hpotest.Synth(s, slots, 2, 0.01, t.TempDir())
			// On compute time: with 3 slots on a wall clock, a loaded
			// machine could delay the failing member's job until every
			// other member had finished, leaving no member to replace it
			// from (1 in 100 runs under load failed so).
			p.Clock, e.Clock, e.Cost = nil, nil, p.Cost
			f := e.Factory
			e.Factory = func(ctx context.Context, id hpo.TrialID, c hpo.Config) (hpo.Trainable, error) {
				tr, err := f(ctx, id, c)
				if id == failing {
					return hpotest.FailingAt{Trainable: tr, At: 8}, err
				}
				return tr, err
			}
			rep, err := hpo.Run(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			completed, failed := 0, 0
			groups := map[int]int{}
			for _, tr := range rep.Trials {
				switch tr.Status {
				case hpo.Completed:
					completed++
					groups[tr.Group]++
				case hpo.Failed:
					failed++
				}
			}
			if failed != 1 || completed != pop || len(groups) != pop {
				t.Fatalf("%d failed, %d completed in %d slots; want 1 failed and %d completed, one per slot",
					failed, completed, len(groups), pop)
			}
			events, _, err := hpo.ReadJournal(filepath.Join(hpotest.Folder(e), "journal.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			inherited := 0
			for i, ev := range events {
				if ev.Kind == hpo.EvDecision && ev.Action == "start" && ev.From != nil {
					inherited++
					if ev.Trial <= failing {
						t.Errorf("trial %d inherits, but it is not a replacement", ev.Trial)
					}
					var copied bool
					for _, c := range events[i+1:] {
						if c.Kind == hpo.EvCheckpoint && c.Trial == ev.Trial && c.From != nil && *c.From == *ev.From {
							copied = true
							break
						}
					}
					if !copied {
						t.Errorf("replacement trial %d: no checkpoint copied from trial %d", ev.Trial, *ev.From)
					}
				}
			}
			if inherited != 1 {
				t.Fatalf("%d replacements journaled, want 1", inherited)
			}
		})
	}
}
