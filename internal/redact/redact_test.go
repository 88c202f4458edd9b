package redact_test

import (
	"strings"
	"testing"

	"github.com/hgdtune/hgdtune/internal/redact"
)

// Every form in which a PostgreSQL password can be given loses it, and
// everything else is kept.
func TestURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://me:s3cret@db:5432/hpo", "postgres://me:xxxxx@db:5432/hpo"},
		{"postgresql://me:s3cret@db/hpo?sslmode=disable", "postgresql://me:xxxxx@db/hpo?sslmode=disable"},
		{"postgres://me:p@ss:w@rd@db/hpo", "postgres://me:xxxxx@db/hpo"},
		{"postgres://me@db/hpo?password=s3cret", "postgres://me@db/hpo?password=xxxxx"},
		{"postgres://me@db/hpo?sslmode=disable&password=s3cret&x=1", "postgres://me@db/hpo?sslmode=disable&password=xxxxx&x=1"},
		{"postgres://me@db/hpo?PASSWORD=s3cret", "postgres://me@db/hpo?PASSWORD=xxxxx"},
		{"me:s3cret@db/hpo", "me:xxxxx@db/hpo"},
		{"host=db user=me password=s3cret dbname=hpo", "host=db user=me password=xxxxx dbname=hpo"},
		{"-storage=postgres://me:s3cret@db/hpo", "-storage=postgres://me:xxxxx@db/hpo"},
		{"postgres://me@db/hpo", "postgres://me@db/hpo"},
		{"postgres://db/hpo", "postgres://db/hpo"},
		{"results/cpu-study", "results/cpu-study"},
		{"held by pid 7 (hgdtune reproduce -storage postgres://me:s3cret@db/hpo -out a@b), since now",
			"held by pid 7 (hgdtune reproduce -storage postgres://me:xxxxx@db/hpo -out a@b), since now"},
		{"", ""},
	} {
		if got := redact.URL(c.in); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Contains(redact.URL(c.in), "s3cret") || strings.Contains(redact.URL(c.in), "p@ss") {
			t.Errorf("URL(%q) keeps the password", c.in)
		}
	}
}

// A command line keeps every argument but the passwords in it.
func TestArgs(t *testing.T) {
	in := []string{"hgdtune", "reproduce", "-storage", "postgres://me:s3cret@db/hpo", "-out", "r"}
	got := strings.Join(redact.Args(in), " ")
	if want := "hgdtune reproduce -storage postgres://me:xxxxx@db/hpo -out r"; got != want {
		t.Errorf("Args = %q, want %q", got, want)
	}
	if in[3] != "postgres://me:s3cret@db/hpo" {
		t.Error("Args changed its argument")
	}
}
