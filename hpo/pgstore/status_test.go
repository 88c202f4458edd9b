package pgstore

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Names and holders are printed with their control characters escaped: a
// name cannot fake table rows or recolour the terminal.
func TestOverviewEscapesNames(t *testing.T) {
	o := &Overview{Taken: time.Unix(0, 0),
		Experiments: []ExperimentStatus{{Name: "evil\nfake-row\t1\t2\x1b[31m"}},
		Workers:     []WorkerStatus{{ID: "0123456789abcdef", Holder: "pid 1 on h\r\x1b[2Jx", Seen: time.Unix(0, 0)}}}
	var b bytes.Buffer
	if err := o.Write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\r") || strings.Contains(out, "\nfake-row") {
		t.Errorf("raw control characters in the overview:\n%q", out)
	}
	if !strings.Contains(out, `evil\nfake-row`) {
		t.Errorf("the name is not shown escaped:\n%s", out)
	}
}
