package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hgdtune/hgdtune/hpo"
)

// Overview is what Status reads of a database: its experiments and its
// workers, as of Taken (the database's clock).
type Overview struct {
	Taken       time.Time
	Experiments []ExperimentStatus
	Workers     []WorkerStatus
}

// ExperimentStatus is one experiment: its report so far (read from its
// journal, as hpo.LoadReportFrom), who runs it and its tasks.
type ExperimentStatus struct {
	Name     string
	Settings json.RawMessage
	Created  time.Time
	// Report is the experiment's report so far (Reason "" until it
	// ends); nil for an experiment without a journal yet.
	Report *hpo.Report
	// Holder describes the runner that holds the lease ("" when none
	// does), which expires in LeaseLeft unless renewed.
	Holder    string
	LeaseLeft time.Duration
	// Queued tasks wait for a worker; Training tasks are held by one.
	Queued, Training int
}

// WorkerStatus is one worker (Worker.Run) known to the database.
type WorkerStatus struct {
	ID, Holder    string
	Started, Seen time.Time
	// Tasks counts the tasks it finished; Training those it holds now.
	Tasks    int64
	Training int
	// Stale: not seen for longer than DefaultLeaseTTL (it died, or lost
	// the database); its row stays until it exits cleanly.
	Stale bool
}

// Status reads the overview of the database at url, writing nothing but
// the schema's migration when the database has none.
func Status(ctx context.Context, url string) (*Overview, error) {
	s, err := dial(ctx, url)
	if err != nil {
		return nil, err
	}
	defer s.pool.Close()
	o := &Overview{}
	if err := s.pool.QueryRow(ctx, `SELECT now()`).Scan(&o.Taken); err != nil {
		return nil, s.storageErr(err, "reading the clock")
	}
	rows, err := s.pool.Query(ctx, `SELECT e.id, e.name, e.settings::text, e.created,
			coalesce(l.holder, ''), coalesce(extract(epoch FROM l.expires - now()), 0),
			(SELECT count(*) FROM hgdtune_tasks t WHERE t.experiment = e.id AND t.done IS NULL AND t.worker IS NULL),
			(SELECT count(*) FROM hgdtune_tasks t WHERE t.experiment = e.id AND t.done IS NULL AND t.worker IS NOT NULL),
			EXISTS (SELECT 1 FROM hgdtune_events v WHERE v.experiment = e.id)
		FROM hgdtune_experiments e LEFT JOIN hgdtune_leases l ON l.experiment = e.id AND l.expires > now()
		ORDER BY e.name`)
	if err != nil {
		return nil, s.storageErr(err, "reading the experiments")
	}
	type row struct {
		id      int64
		started bool // it has a journal
		ExperimentStatus
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		var settings string
		var left float64
		err := r.Scan(&x.id, &x.Name, &settings, &x.Created, &x.Holder, &left, &x.Queued, &x.Training, &x.started)
		x.Settings = json.RawMessage(settings)
		x.LeaseLeft = time.Duration(left * float64(time.Second))
		return x, err
	})
	if err != nil {
		return nil, s.storageErr(err, "reading the experiments")
	}
	for _, x := range list {
		st := &Store{pool: s.pool, shared: true, name: x.Name, id: x.id, addr: s.addr, db: s.db}
		if x.started {
			var err error
			if x.Report, err = hpo.LoadReportFrom(ctx, st); err != nil {
				return nil, fmt.Errorf("pgstore: %s: %w", st, err)
			}
		}
		o.Experiments = append(o.Experiments, x.ExperimentStatus)
	}
	rows, err = s.pool.Query(ctx, `SELECT w.id, w.holder, w.started, w.seen, w.tasks,
			(SELECT count(*) FROM hgdtune_tasks t WHERE t.worker = w.id AND t.done IS NULL),
			w.seen < now() - make_interval(secs => $1)
		FROM hgdtune_workers w ORDER BY w.started`, DefaultLeaseTTL.Seconds())
	if err != nil {
		return nil, s.storageErr(err, "reading the workers")
	}
	o.Workers, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (WorkerStatus, error) {
		var w WorkerStatus
		err := r.Scan(&w.ID, &w.Holder, &w.Started, &w.Seen, &w.Tasks, &w.Training, &w.Stale)
		return w, err
	})
	if err != nil {
		return nil, s.storageErr(err, "reading the workers")
	}
	return o, nil
}

// State says in a few words where experiment x stands: "ended (reason)",
// "running (holder)" or "waiting for a runner".
func (x ExperimentStatus) State() string {
	switch {
	case x.Report != nil && x.Report.Reason != "":
		return "ended (" + x.Report.Reason + ")"
	case x.Holder != "":
		return "running: " + x.Holder
	}
	return "waiting for a runner"
}

// Write prints the overview as two tables, experiments and workers.
func (o *Overview) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%d experiments, %d workers, as of %s\n\n", len(o.Experiments), len(o.Workers), o.Taken.UTC().Format("2006-01-02 15:04:05 MST"))
	fmt.Fprintln(tw, "EXPERIMENT\tTRIALS\tRESULTS\tFAILED\tBEST\tTIME\tQUEUED\tTRAINING\tSTATE")
	for _, x := range o.Experiments {
		trials, results, failed, best, elapsed := 0, 0, 0, "-", "-"
		if r := x.Report; r != nil {
			trials = len(r.Trials)
			for _, rec := range r.Records {
				if rec.Status == hpo.Failed {
					failed++
				} else {
					results++
				}
			}
			if b, ok := r.Best(); ok {
				best = fmt.Sprintf("%.4f (t%d@%d)", b.Metrics[r.Metric.Name], b.Trial, b.Budget)
			}
			elapsed = r.Elapsed.Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%s\n", printable(x.Name), trials, results, failed, best, elapsed, x.Queued, x.Training, x.State())
	}
	if len(o.Workers) > 0 {
		fmt.Fprintln(tw, "\nWORKER\tTASKS\tTRAINING\tSEEN\tHOLDER")
		for _, wk := range o.Workers {
			seen := o.Taken.Sub(wk.Seen).Round(time.Second).String() + " ago"
			if wk.Stale {
				seen += " (stale)"
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", printable(wk.ID[:8]), wk.Tasks, wk.Training, seen, printable(wk.Holder))
		}
	}
	return tw.Flush()
}

// printable is s with its control characters (newlines, tabs, terminal
// escapes), backslashes and invalid UTF-8 escaped as in a Go string
// literal, so that a name read from the database prints as one cell of a
// table.
func printable(s string) string {
	q := strconv.QuoteToGraphic(s)
	return strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`)
}

// Check connects to the database at url and creates or migrates its
// tables, so that a command can refuse an unreachable database, wrong
// credentials or a newer schema (ErrUnreachable, ErrSchemaTooNew) before
// it prepares anything.
func Check(ctx context.Context, url string) error {
	s, err := dial(ctx, url)
	if err != nil {
		return err
	}
	s.pool.Close()
	return nil
}
