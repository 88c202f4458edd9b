package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/internal/storagetest"
	"github.com/hgdtune/hgdtune/hpo/pgstore"
	"github.com/hgdtune/hgdtune/internal/pgtest"
)

var ctx = context.Background()

func testDB(t testing.TB) string { return pgtest.DB(t) }

func connect(t testing.TB, url string) *pgx.Conn { return pgtest.Connect(t, url) }

func randomHex(n int) string { return pgtest.RandomHex(n) }

func withParam(url, key, value string) string { return pgtest.WithParam(url, key, value) }

// open opens experiment name in the database at url, closed when t ends.
func open(t *testing.T, url, name string, settings string, opts ...pgstore.Option) *pgstore.Store {
	t.Helper()
	st, err := pgstore.Open(ctx, url, name, []byte(settings), opts...)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	url := testDB(t)
	for _, folder := range []bool{false, true} {
		t.Run(map[bool]string{false: "checkpoints in the database", true: "checkpoints in a folder"}[folder], func(t *testing.T) {
			var opts []pgstore.Option
			if folder {
				opts = append(opts, pgstore.CheckpointDir(t.TempDir()))
			}
			storagetest.Run(t, storagetest.Harness{
				New: func(t *testing.T) hpo.Storage {
					return open(t, url, "exp-"+randomHex(4), `{"preset": "test"}`, opts...)
				},
				Again: func(t *testing.T, st hpo.Storage) hpo.Storage {
					return open(t, url, st.(*pgstore.Store).Name(), `{"preset": "test"}`, opts...)
				},
				Abandon: func(t *testing.T, st hpo.Storage, _ func() error) {
					if err := pgstore.Abandon(ctx, st.(*pgstore.Store), true); err != nil {
						t.Fatal(err)
					}
				},
				SeqGuard: true,
			})
		})
	}
}

// An experiment keeps the checkpoint folder it was created with: opening
// it with another one, or with none, is refused; a relative folder is
// refused before connecting.
func TestCheckpointDirRecorded(t *testing.T) {
	url := testDB(t)
	dir := t.TempDir()
	open(t, url, "in-folder", `{}`, pgstore.CheckpointDir(dir))
	for _, opts := range [][]pgstore.Option{nil, {pgstore.CheckpointDir(t.TempDir())}} {
		if _, err := pgstore.Open(ctx, url, "in-folder", []byte(`{}`), opts...); !errors.Is(err, pgstore.ErrSettingsMismatch) || !strings.Contains(err.Error(), dir) {
			t.Fatalf("another checkpoint folder: %v, want ErrSettingsMismatch naming %s", err, dir)
		}
	}
	if _, err := pgstore.Open(ctx, "postgres://nobody@127.0.0.1:1/x", "e", nil, pgstore.CheckpointDir("relative/dir")); !errors.Is(err, hpo.ErrInvalid) {
		t.Fatalf("a relative folder: %v, want ErrInvalid", err)
	}
}

// count returns the number of rows of table in the database at url.
func count(t *testing.T, url, table string) int {
	t.Helper()
	conn := connect(t, url)
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}

func exec(t *testing.T, url, sql string, args ...any) {
	t.Helper()
	conn := connect(t, url)
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// An unreachable server is ErrUnreachable naming host:port and not the
// password; nothing else runs. (No database needed.)
func TestUnreachable(t *testing.T) {
	const pw = "hunter2-very-secret"
	_, err := pgstore.Open(ctx, "postgres://someone:"+pw+"@127.0.0.1:1/hpo?connect_timeout=5", "exp", nil)
	if !errors.Is(err, pgstore.ErrUnreachable) {
		t.Fatalf("open on a closed port: %v, want ErrUnreachable", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "127.0.0.1:1") || strings.Contains(msg, pw) {
		t.Fatalf("the error must name 127.0.0.1:1 and not the password: %s", msg)
	}
	_, err = pgstore.Open(ctx, "postgres://someone:"+pw+"@127.0.0.1:notaport/hpo", "exp", nil)
	if !errors.Is(err, pgstore.ErrUnreachable) || strings.Contains(err.Error(), pw) {
		t.Fatalf("open with a malformed URL: %v, want ErrUnreachable without the password", err)
	}
	if _, err := pgstore.Open(ctx, "postgres://127.0.0.1:1/hpo", "exp", []byte("{not json")); !errors.Is(err, hpo.ErrInvalid) {
		t.Fatalf("open with settings that are not JSON: %v, want ErrInvalid", err)
	}
}

// Wrong credentials are ErrUnreachable, naming host:port and not the
// password, and write nothing.
func TestWrongCredentials(t *testing.T) {
	url := testDB(t)
	const pw = "wrong-s3cret-password"
	// A role that does not exist.
	bad := strings.Replace(url, "postgres://postgres@", "postgres://hgdtune_nobody:"+pw+"@", 1)
	if bad == url {
		t.Skipf("HGDTUNE_TEST_PG is not of the form postgres://postgres@host:port/…: cannot derive a wrong user")
	}
	_, err := pgstore.Open(ctx, bad, "exp", nil)
	checkCredentials(t, err, pw)
	// A role with a password, given another one (scripts/pg.sh asks this
	// role for a password; a server that trusts it skips this part).
	exec(t, url, `DO $$ BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hgdtune_auth_test') THEN
			CREATE ROLE hgdtune_auth_test LOGIN PASSWORD 'the-right-one';
		END IF; END $$`)
	bad = strings.Replace(url, "postgres://postgres@", "postgres://hgdtune_auth_test:"+pw+"@", 1)
	_, err = pgstore.Open(ctx, bad, "exp", nil)
	if err == nil || errors.Is(err, pgstore.ErrUnreachable) && !strings.Contains(err.Error(), "credentials") {
		t.Logf("the server does not ask hgdtune_auth_test for a password (%v): wrong-password case skipped", err)
	} else {
		checkCredentials(t, err, pw)
	}
	if n := count(t, url, "pg_tables WHERE tablename LIKE 'hgdtune_%' AND schemaname = current_schema()"); n != 0 {
		t.Fatalf("%d tables created by a refused connection", n)
	}
}

func checkCredentials(t *testing.T, err error, pw string) {
	t.Helper()
	if !errors.Is(err, pgstore.ErrUnreachable) {
		t.Fatalf("open with wrong credentials: %v, want ErrUnreachable", err)
	}
	msg := err.Error()
	if strings.Contains(msg, pw) || !strings.Contains(msg, "credentials") || !strings.Contains(msg, "127.0.0.1:") {
		t.Fatalf("the error must say credentials, name host:port and not the password: %s", msg)
	}
}

// A database migrated by a newer program is refused, and nothing is
// written.
func TestSchemaTooNew(t *testing.T) {
	url := testDB(t)
	open(t, url, "first", `{}`)
	exec(t, url, `INSERT INTO hgdtune_schema_version (version) VALUES ($1)`, pgstore.KnownVersion+1)
	_, err := pgstore.Open(ctx, url, "second", []byte(`{}`))
	if !errors.Is(err, pgstore.ErrSchemaTooNew) {
		t.Fatalf("open of a newer database: %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(pgstore.KnownVersion+1)) {
		t.Errorf("the error does not give the database's version: %v", err)
	}
	if n := count(t, url, "hgdtune_experiments"); n != 1 {
		t.Fatalf("%d experiments after the refusal, want 1 (nothing written)", n)
	}
	if n := count(t, url, "hgdtune_schema_version"); n != pgstore.KnownVersion+1 {
		t.Fatalf("%d schema versions after the refusal", n)
	}
}

// Programs opening an empty database at once migrate it once.
func TestConcurrentMigrations(t *testing.T) {
	url := testDB(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			st, err := pgstore.Open(ctx, url, fmt.Sprint("exp", i%2), []byte(`{"a": 1}`))
			if err == nil {
				st.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
	}
	if n := count(t, url, "hgdtune_schema_version"); n != pgstore.KnownVersion {
		t.Fatalf("%d schema versions recorded, want %d", n, pgstore.KnownVersion)
	}
	if n := count(t, url, "hgdtune_experiments"); n != 2 {
		t.Fatalf("%d experiments, want 2", n)
	}
}

// An experiment reopened with other settings is refused before anything is
// written; the same settings in another form are the same.
func TestSettingsMismatch(t *testing.T) {
	url := testDB(t)
	open(t, url, "exp", `{"preset": "cpu-quick", "seeds": 2, "algorithms": ["asha"]}`)
	open(t, url, "exp", `{"algorithms":["asha"],"seeds":2.0,"preset":"cpu-quick"}`)
	_, err := pgstore.Open(ctx, url, "exp", []byte(`{"preset": "cpu-quick", "seeds": 3, "algorithms": ["pbt"]}`))
	if !errors.Is(err, pgstore.ErrSettingsMismatch) {
		t.Fatalf("open with other settings: %v, want ErrSettingsMismatch", err)
	}
	if msg := err.Error(); !strings.Contains(msg, `algorithms: ["asha"] → ["pbt"]; seeds: 2 → 3`) || strings.Contains(msg, "preset") {
		t.Errorf("the error does not name the fields that differ: %s", msg)
	}
	if n := count(t, url, "hgdtune_experiments"); n != 1 {
		t.Fatalf("%d experiments, want 1", n)
	}
}

// The heartbeat keeps a lease alive past its TTL; a lease left by a dead
// holder expires after its TTL and is taken over; the old holder, back,
// can no longer write.
func TestLeaseLifecycle(t *testing.T) {
	url := testDB(t)
	// A long TTL renewed often: the test never depends on how fast this
	// machine runs (a renewal would have to stall for 30 s to lose it).
	a := open(t, url, "exp", `{}`, pgstore.LeaseTTL(30*time.Second), pgstore.RenewEvery(20*time.Millisecond))
	b := open(t, url, "exp", `{}`)
	releaseA, err := a.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, w, err := a.OpenJournal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(&hpo.Event{Kind: hpo.EvExperiment, Trial: -1}); err != nil {
		t.Fatal(err)
	}
	// The heartbeat renews the lease: its expiry moves forward.
	first, err := pgstore.LeaseExpires(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		now, err := pgstore.LeaseExpires(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if now.After(first) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease not renewed in a minute (expires %v)", now)
		}
	}
	_, err = b.Lock(ctx)
	if !errors.Is(err, hpo.ErrLocked) || !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("lock of a renewed lease: %v, want ErrLocked naming the holder", err)
	}
	// a dies and its TTL passes (set in the database: no waiting).
	if err := pgstore.Abandon(ctx, a, true); err != nil {
		t.Fatal(err)
	}
	releaseB, err := b.Lock(ctx)
	if err != nil {
		t.Fatalf("takeover of an expired lease: %v", err)
	}
	defer releaseB()
	// a comes back: its writes are refused.
	err = w.Append(&hpo.Event{Kind: hpo.EvTrial, Trial: 0})
	if !errors.Is(err, hpo.ErrStorage) || !errors.Is(err, hpo.ErrLocked) {
		t.Fatalf("append by a holder that lost its lease: %v, want ErrStorage and ErrLocked", err)
	}
	err = a.SaveCheckpoint(ctx, "t000000/b000001", func(string) error { return nil })
	if !errors.Is(err, hpo.ErrStorage) || !errors.Is(err, hpo.ErrLocked) {
		t.Fatalf("save by a holder that lost its lease: %v, want ErrStorage and ErrLocked", err)
	}
	if err := releaseA(); !errors.Is(err, hpo.ErrLocked) {
		t.Fatalf("release of a lost lease: %v, want an error saying it was lost", err)
	}
	// b's lease is untouched by a's release.
	_, wb, err := b.OpenJournal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := wb.Append(&hpo.Event{Kind: hpo.EvTrial, Trial: 0}); err != nil {
		t.Fatalf("append by the new holder: %v", err)
	}
	if err := releaseB(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, url, "hgdtune_leases"); n != 0 {
		t.Fatalf("%d leases after release", n)
	}
}
