package nbkit

import (
	"fmt"
	"io"

	"github.com/hgdtune/hgdtune/hpo"
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
