package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hgdtune/hgdtune/internal/dirlock"
	"github.com/hgdtune/hgdtune/internal/pgtest"
)

const secret = "s3cret-pw"

// checkNoSecret fails t if any text, or any file under dirs, holds the
// password.
func checkNoSecret(t *testing.T, texts map[string]string, dirs ...string) {
	t.Helper()
	for name, s := range texts {
		if strings.Contains(s, secret) {
			t.Errorf("%s shows the password:\n%s", name, s)
		}
	}
	for _, d := range dirs {
		filepath.WalkDir(d, func(path string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the password:\n%s", path, b)
			}
			return nil
		})
	}
}

// A password given in any form never reaches the results folder (its lock
// file records the command line) nor a message: an unreachable database,
// a malformed -storage, and a folder held by a process whose command line
// has one.
func TestPasswordNotShownOrStored(t *testing.T) {
	for _, url := range []string{
		"postgres://me:" + secret + "@127.0.0.1:1/hpo?connect_timeout=5",
		"postgres://me@127.0.0.1:1/hpo?connect_timeout=5&password=" + secret,
		"me:" + secret + "@127.0.0.1:1/hpo",
	} {
		out := filepath.Join(t.TempDir(), "out")
		code, stdout, stderr := runCmd(t, reproduceArgs(t, out, "-storage", url)...)
		if code == 0 {
			t.Errorf("%s: accepted", url)
		}
		checkNoSecret(t, map[string]string{"stdout": stdout, "stderr": stderr}, out)
	}
	// A holder whose command line has a password.
	out := filepath.Join(t.TempDir(), "out")
	saved := os.Args
	os.Args = []string{"hgdtune", "reproduce", "-storage", "postgres://me:" + secret + "@db/hpo", "-out", out}
	l, err := dirlock.Acquire(out)
	os.Args = saved
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	code, stdout, stderr := runCmd(t, reproduceArgs(t, out)...)
	if code == 0 || !strings.Contains(stderr, "held by") {
		t.Fatalf("code %d, want the folder's holder named:\n%s", code, stderr)
	}
	checkNoSecret(t, map[string]string{"stdout": stdout, "stderr": stderr}, out)
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader; wrote
// receives a value after writes.
type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case s.wrote <- struct{}{}:
	default:
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// With a real database, status and a worker print where they are
// connected without the password, in the URL's userinfo or as a
// parameter. (Needs HGDTUNE_TEST_PG; the server trusts local users, so
// the password is accepted whatever it is.)
func TestPasswordNotShownByDatabaseCommands(t *testing.T) {
	base := pgtest.DB(t)
	withPassword := []string{pgtest.WithParam(base, "password", secret)}
	if strings.HasPrefix(base, "postgres://") && !strings.Contains(strings.SplitN(strings.TrimPrefix(base, "postgres://"), "@", 2)[0], ":") &&
		strings.Contains(base, "@") {
		withPassword = append(withPassword, strings.Replace(base, "@", ":"+secret+"@", 1))
	}
	for _, url := range withPassword {
		code, stdout, stderr := runCmd(t, "status", "-storage", url)
		if code != 0 {
			t.Fatalf("status: code %d:\n%s", code, stderr)
		}
		checkNoSecret(t, map[string]string{"status stdout": stdout, "status stderr": stderr})
		ctx, cancel := context.WithCancel(context.Background())
		var wout syncBuffer
		werr := syncBuffer{wrote: make(chan struct{}, 1)}
		done := make(chan int)
		go func() { done <- run(ctx, []string{"worker", "-storage", url}, &wout, &werr) }()
		for !strings.Contains(werr.String(), "worker on") {
			select {
			case c := <-done:
				cancel()
				t.Fatalf("worker ended with %d:\n%s", c, werr.String())
			case <-werr.wrote:
			}
		}
		cancel()
		<-done
		checkNoSecret(t, map[string]string{"worker stdout": wout.String(), "worker stderr": werr.String()})
	}
}
