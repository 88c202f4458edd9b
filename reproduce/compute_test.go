package reproduce

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"testing"

	"github.com/hgdtune/hgdtune/backend/backendtest"
)

// With the compute clock, the same reproduction gives the same tables,
// results and journals bit for bit whatever the machine does: on 1 or 2
// real workers for its 2 slots, and with the CPU loaded by other work.
// (A real, small CNN; only the journals' wall-clock "time" field and the
// summary's start time differ.)
func TestComputeClockDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for several seconds")
	}
	be := backendtest.Go(t)
	p := tinyPreset(ASHA, PBT)
	if p.Clock != ClockCompute {
		t.Fatalf("cpu-quick runs on the %q clock, want compute", p.Clock)
	}
	run := func(workers int, load bool) string {
		if load { // other work on every core while it runs
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range runtime.NumCPU() {
				wg.Add(1)
				go func() {
					defer wg.Done()
					x := 1.0
					for {
						select {
						case <-stop:
							return
						default:
							for range 1000 {
								x = x*1.0000001 + 1e-9
							}
						}
					}
				}()
			}
			defer func() { close(stop); wg.Wait() }()
		}
		q := p
		q.Workers = workers
		dir := t.TempDir()
		if _, err := Run(context.Background(), Options{Preset: q, Dir: dir, Data: toyDataset(400), Backend: be, BackendSpec: "go"}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	ref := run(2, false)
	for _, c := range []struct {
		name    string
		workers int
		load    bool
	}{{"one worker", 1, false}, {"loaded machine", 2, true}} {
		t.Run(c.name, func(t *testing.T) {
			sameResults(t, ref, run(c.workers, c.load))
		})
	}
}

var (
	timeField   = regexp.MustCompile(`"time":"[^"]*",|,"sum":"[0-9a-f]*"`) // the checksums cover the times
	startedLine = regexp.MustCompile(`(?m)^- started: .*$`)
	workersNote = regexp.MustCompile(`\d+ slots simulated on \d+ workers`)
)

// sameResults compares two results folders: the summary (but its start
// time and worker count), every results.csv and every journal (but the
// wall-clock times).
func sameResults(t *testing.T, a, b string) {
	t.Helper()
	norm := func(re *regexp.Regexp, s []byte) string { return re.ReplaceAllString(string(s), "") }
	read := func(p string) []byte {
		bs, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}
	sa := norm(workersNote, []byte(norm(startedLine, read(filepath.Join(a, "summary.md")))))
	sb := norm(workersNote, []byte(norm(startedLine, read(filepath.Join(b, "summary.md")))))
	if sa != sb {
		t.Errorf("summary.md differs:\n%s\n---\n%s", sa, sb)
	}
	runs, _ := filepath.Glob(filepath.Join(a, "runs", "*"))
	if len(runs) == 0 {
		t.Fatal("no runs")
	}
	for _, r := range runs {
		name := filepath.Base(r)
		if string(read(filepath.Join(r, "results.csv"))) != string(read(filepath.Join(b, "runs", name, "results.csv"))) {
			t.Errorf("%s: results.csv differs", name)
		}
		ja := norm(timeField, read(filepath.Join(r, "journal.jsonl")))
		jb := norm(timeField, read(filepath.Join(b, "runs", name, "journal.jsonl")))
		if ja != jb {
			t.Errorf("%s: journals differ", name)
		}
	}
}
