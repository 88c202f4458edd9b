package nbkit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/pgstore"
	"github.com/hgdtune/hgdtune/reproduce"
)

// Results is a results folder of `hgdtune reproduce`, read back from its
// files (reproduce.Results).
type Results = reproduce.Results

// LoadResults reads a results folder (reproduce.Load).
func LoadResults(dir string) (*Results, error) { return reproduce.Load(dir) }

// RunLines is the notebooks' view of a reproduction (a reproduce.Observer):
// a line on w at the end of each run, with its exact counts.
func RunLines(w io.Writer) reproduce.Observer { return runLines{w} }

type runLines struct{ w io.Writer }

func (runLines) RunStarted(reproduce.RunStatus) {}

func (l runLines) RunEnded(r reproduce.RunStatus, rep *hpo.Report, err error) {
	c := reproduce.ReportCounts(rep)
	status := "done"
	if err != nil {
		status = "stopped: " + err.Error()
	}
	fmt.Fprintf(l.w, "[%d/%d] %-18s %d trials (%d failed), best %.4f, %s\n", r.Index+1, r.Total, r.ID, c.Trials, c.Failed, c.Best, status)
}

// Status reads the overview of the PostgreSQL database at url (pgstore.Status):
// its experiments, their best results so far, and its workers.
func Status(ctx context.Context, url string) (*pgstore.Overview, error) {
	return pgstore.Status(ctx, url)
}

// StatusText is Status printed as two tables (pgstore.Overview.Write).
func StatusText(ctx context.Context, url string) (string, error) {
	o, err := pgstore.Status(ctx, url)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = o.Write(&b)
	return b.String(), err
}

// LoadSharedResults reads the reproduction called name (hgdtune reproduce
// -storage url -name name) from its database, as LoadResults reads a
// results folder — also while its runs go on, on any machines.
func LoadSharedResults(ctx context.Context, url, name string) (*Results, error) {
	o, err := pgstore.Status(ctx, url)
	if err != nil {
		return nil, err
	}
	runs := sharedRuns(o, name)
	if len(runs) == 0 {
		return nil, fmt.Errorf("nbkit: no runs of a reproduction %q in the database", name)
	}
	return reproduce.LoadShared(runs)
}

// sharedRuns are the runs of the reproduction called name in o: the
// experiments "<name>/<run>" (not those of a reproduction "<name>/<x>",
// whose runs are "<name>/<x>/<run>") whose settings are a run's.
func sharedRuns(o *pgstore.Overview, name string) []reproduce.SharedRunReport {
	var runs []reproduce.SharedRunReport
	for _, x := range o.Experiments {
		run, ok := strings.CutPrefix(x.Name, name+"/")
		if !ok || strings.Contains(run, "/") {
			continue
		}
		var s reproduce.RunSettings
		if err := json.Unmarshal(x.Settings, &s); err != nil || s.Algorithm == "" {
			continue // not a run of a reproduction
		}
		runs = append(runs, reproduce.SharedRunReport{Settings: s, Report: x.Report})
	}
	return runs
}
