package trainer

import (
	"context"
	"fmt"
	"testing"

	"github.com/hgdtune/hgdtune/backend/backendtest"
)

// A change of batch size at an epoch's end (a PBT exploit that explores
// the batch size, by Restore of a checkpoint or by Reconfigure in place)
// leaves the trainer at that epoch's end for its new batch size: the next
// epoch trains exactly StepsPerEpoch steps, what the compute clock charges
// for it. (The images an epoch leaves over at the old batch size, fewer
// than a batch, are not trained at the new one.)
func TestBatchSizeChangeAtEpochEnd(t *testing.T) {
	be := backendtest.Go(t)
	data := toyData(t, 200, 10, 1) // 140 training images: 16 leaves 12 over, 8 leaves 4
	for _, c := range []struct{ from, to int }{{16, 4}, {8, 4}, {16, 8}, {4, 16}} {
		for _, how := range []string{"restore", "reconfigure"} {
			t.Run(fmt.Sprintf("%s %d→%d", how, c.from, c.to), func(t *testing.T) {
				ctx := context.Background()
				a := newTrainer(t, be, data, Config{Net: small1, BatchSize: c.from, Unit: Epochs, Seed: 2})
				if _, err := a.Train(ctx, 1); err != nil {
					t.Fatal(err)
				}
				b := a
				cfg := Config{Net: small1, BatchSize: c.to, Unit: Epochs, Seed: 2}
				if how == "restore" {
					dir := t.TempDir()
					if err := a.Save(dir); err != nil {
						t.Fatal(err)
					}
					b = newTrainer(t, be, data, cfg)
					if err := b.Restore(dir); err != nil {
						t.Fatal(err)
					}
				} else if err := a.Reconfigure(cfg); err != nil {
					t.Fatal(err)
				}
				spe := 140 / c.to
				if b.Steps() != spe || b.Epochs() != 1 {
					t.Fatalf("after one epoch at batch %d, %s to %d: step %d (%v epochs), want %d (1 epoch)",
						c.from, how, c.to, b.Steps(), b.Epochs(), spe)
				}
				before := b.Steps()
				if _, err := b.Train(ctx, 2); err != nil {
					t.Fatal(err)
				}
				if got := b.Steps() - before; got != spe {
					t.Errorf("the second epoch trained %d steps, want %d", got, spe)
				}
			})
		}
	}
}
