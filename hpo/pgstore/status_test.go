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

// A settings mismatch names the fields that differ, nested ones by their
// path, with both values, and does not dump the stored settings.
func TestDiffering(t *testing.T) {
	stored := `{"preset":{"budget":"4s","seeds":10,"arms":["sgd","hgd"]},"algorithm":"asha","seed":0}`
	given := `{"preset":{"budget":"3s","seeds":10,"arms":["sgd"]},"algorithm":"asha","seed":0}`
	got := differing([]byte(stored), []byte(given))
	want := `preset.arms: ["sgd","hgd"] → ["sgd"]; preset.budget: "4s" → "3s"`
	if got != want {
		t.Errorf("differing = %q, want %q", got, want)
	}
}
