// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema on the server that HGDTUNE_TEST_PG names (CI starts one with
// scripts/pg.sh), dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Env is the variable that holds the test server's URL.
const Env = "HGDTUNE_TEST_PG"

// DB returns the URL of an empty schema of its own (search_path set), on
// the server that HGDTUNE_TEST_PG names, dropped when t ends. It skips t,
// saying how to run it, when HGDTUNE_TEST_PG is unset.
func DB(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		t.Skip("HGDTUNE_TEST_PG is not set: to run the PostgreSQL tests, `export HGDTUNE_TEST_PG=$(bash scripts/pg.sh start)` (a throwaway local cluster; `bash scripts/pg.sh stop` removes it)")
	}
	schema := "hgdtune_test_" + RandomHex(6)
	conn := Connect(t, base)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
		conn.Close(ctx)
	})
	return WithParam(base, "search_path", schema)
}

// WithParam adds a run-time parameter to a connection URL or key=value
// string.
func WithParam(url, key, value string) string {
	switch {
	case !strings.Contains(url, "://"):
		return url + " " + key + "=" + value
	case strings.Contains(url, "?"):
		return url + "&" + key + "=" + value
	}
	return url + "?" + key + "=" + value
}

// Connect opens a connection to url, closed by the caller.
func Connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connecting to %s: %v", Env, err)
	}
	return conn
}

// RandomHex is n random bytes in hex: names that tests do not share.
func RandomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
