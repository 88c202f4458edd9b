package hpo

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// WriteCSV writes one row per record (result or failure) with a header row:
//
//	trial, group, budget, elapsed_s, <metrics, sorted by name>, status, error, <parameters, in space order>
//
// The parameters are the trial's configuration when it reported (PBT changes
// configurations during a trial).
//
// Numbers use Go's shortest round-tripping format, so pandas.read_csv and
// spreadsheets read them back exactly. Missing metrics are empty cells.
func (r *Report) WriteCSV(w io.Writer) error {
	metricSet := map[string]bool{}
	for _, rec := range r.Records {
		for k := range rec.Metrics {
			metricSet[k] = true
		}
	}
	metrics := make([]string, 0, len(metricSet))
	for k := range metricSet {
		metrics = append(metrics, k)
	}
	slices.Sort(metrics)
	params := r.Space.Names()

	cw := csv.NewWriter(w)
	header := append([]string{"trial", "group", "budget", "elapsed_s"}, metrics...)
	header = append(header, "status", "error")
	header = append(header, params...)
	if err := cw.Write(header); err != nil {
		return err
	}
	row := make([]string, 0, len(header))
	for _, rec := range r.Records {
		var t Trial
		if int(rec.Trial) < len(r.Trials) {
			t = r.Trials[rec.Trial]
		}
		row = row[:0]
		row = append(row, strconv.Itoa(int(rec.Trial)), strconv.Itoa(t.Group), strconv.Itoa(rec.Budget),
			formatFloat(rec.Elapsed.Seconds()))
		for _, m := range metrics {
			if v, ok := rec.Metrics[m]; ok {
				row = append(row, formatFloat(v))
			} else {
				row = append(row, "")
			}
		}
		row = append(row, rec.Status.String(), rec.Err)
		for _, p := range params {
			row = append(row, formatValue(rec.Config[p]))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return formatFloat(x)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}
