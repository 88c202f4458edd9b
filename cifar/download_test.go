package cifar

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/internal/testkit"
)

// archiveServer serves body as /kriz/<name> and counts requests.
func archiveServer(t *testing.T, name string, body []byte, handler func(w http.ResponseWriter)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/kriz/"+name {
			http.NotFound(w, r)
			return
		}
		if handler != nil {
			handler(w)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestDownload(t *testing.T) {
	ctx := context.Background()
	files := cifar100Fixture(40, 20)
	arc := tarGz(t, "cifar-100-binary", files)
	const name = "cifar-100-binary.tar.gz"

	t.Run("ok", func(t *testing.T) {
		srv, hits := archiveServer(t, name, arc, nil)
		cache := t.TempDir()
		var progress bytes.Buffer
		cfg := Config{DataDir: t.TempDir(), CacheDir: cache, Download: true, Progress: &progress,
			HTTPClient: srv.Client(), BaseURL: srv.URL + "/kriz", SkipMD5: true, AnyRecordCount: true}
		train, test, err := LoadCIFAR100(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkDecoded(t, train, 2, files["train.bin"])
		checkDecoded(t, test, 2, files["test.bin"])
		if hits.Load() != 1 {
			t.Errorf("%d requests, want 1 (test set from the same download)", hits.Load())
		}
		if p := progress.String(); !strings.Contains(p, "downloading "+name) || !strings.Contains(p, "100.0%") || !strings.HasSuffix(p, "\n") {
			t.Errorf("progress %q", p)
		}
		// Archive kept, folder extracted, no temporary files left.
		want := []string{".", "cifar-100-binary", name, "cifar-100-binary/coarse_label_names.txt",
			"cifar-100-binary/fine_label_names.txt", "cifar-100-binary/readme.html", "cifar-100-binary/test.bin", "cifar-100-binary/train.bin"}
		if got := listTree(t, cache); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("cache holds %q", got)
		}
		// The archive is an ordinary file (os.CreateTemp would leave it 0600).
		if st, err := os.Stat(filepath.Join(cache, name)); err != nil {
			t.Error(err)
		} else if st.Mode().Perm()&0o044 != 0o044 {
			t.Errorf("archive mode %v, want readable by all (0644)", st.Mode().Perm())
		}
		// A second load reads the extracted cache and stays offline.
		cfg.Progress = nil
		if _, _, err := LoadCIFAR100(ctx, cfg); err != nil || hits.Load() != 1 {
			t.Errorf("second load: %v, %d requests", err, hits.Load())
		}
	})

	t.Run("silent and explicit", func(t *testing.T) {
		srv, _ := archiveServer(t, name, arc, nil)
		cache := t.TempDir()
		cfg := Config{CacheDir: cache, HTTPClient: srv.Client(), BaseURL: srv.URL + "/kriz/", SkipMD5: true}
		if err := Download(ctx, cfg, CIFAR100Test); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(cache, "cifar-100-binary", "test.bin")); err != nil {
			t.Error(err)
		}
	})

	t.Run("disabled", func(t *testing.T) {
		srv, hits := archiveServer(t, name, arc, nil)
		cfg := Config{DataDir: t.TempDir(), CacheDir: t.TempDir(), HTTPClient: srv.Client(), BaseURL: srv.URL + "/kriz"}
		if _, err := Load(ctx, cfg, CIFAR100Train); !errors.Is(err, ErrMissing) || hits.Load() != 0 {
			t.Errorf("Download off: %v, %d requests", err, hits.Load())
		}
	})

	for _, tc := range []struct {
		name    string
		handler func(w http.ResponseWriter)
		skipMD5 bool
		want    []error
		inMsg   []string
	}{
		{name: "md5 mismatch", want: []error{ErrDownload, ErrChecksum},
			inMsg: []string{name, "expected 03b5dce01913d631647c71ecec9e9cb8", "got "}},
		{name: "404", skipMD5: true, handler: func(w http.ResponseWriter) { http.Error(w, "gone", http.StatusNotFound) },
			want: []error{ErrDownload}, inMsg: []string{name, "404"}},
		{name: "truncated body", skipMD5: true, handler: func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", strconv.Itoa(len(arc)))
			w.Write(arc[:len(arc)/3])
		}, want: []error{ErrDownload}, inMsg: []string{name}},
		{name: "corrupt archive", skipMD5: true, handler: func(w http.ResponseWriter) { w.Write([]byte("<html>captive portal</html>")) },
			want: []error{ErrArchive}, inMsg: []string{name}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := archiveServer(t, name, arc, tc.handler)
			cache := t.TempDir()
			cfg := Config{DataDir: t.TempDir(), CacheDir: cache, Download: true, HTTPClient: srv.Client(),
				BaseURL: srv.URL + "/kriz", SkipMD5: tc.skipMD5, AnyRecordCount: true, Progress: &bytes.Buffer{}}
			_, err := Load(ctx, cfg, CIFAR100Train)
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("error %v is not %v", err, w)
				}
			}
			for _, s := range tc.inMsg {
				if err == nil || !strings.Contains(err.Error(), s) {
					t.Errorf("error %v lacks %q", err, s)
				}
			}
			// Atomic: no partial archive, no temporary file, no extracted folder.
			for _, p := range listTree(t, cache) {
				if p != "." {
					t.Errorf("left in cache: %s", p)
				}
			}
		})
	}

	t.Run("no cache dir", func(t *testing.T) {
		t.Setenv(EnvCache, "")
		t.Setenv("XDG_CACHE_HOME", "")
		t.Setenv("HOME", "")
		err := Download(ctx, Config{}, CIFAR10Train)
		if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), EnvCache) {
			t.Errorf("got %v", err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		srv, _ := archiveServer(t, name, arc, nil)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		cfg := Config{CacheDir: t.TempDir(), HTTPClient: srv.Client(), BaseURL: srv.URL + "/kriz", SkipMD5: true}
		if err := Download(cctx, cfg, CIFAR100Train); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v", err)
		}
	})
}

func TestProgressBarUnknownLength(t *testing.T) {
	var b bytes.Buffer
	p := newProgressBar(&b, "x.tar.gz", -1)
	p.Write(make([]byte, 2_500_000))
	p.finish()
	if s := b.String(); !strings.Contains(s, "downloading x.tar.gz 2.5 MB") {
		t.Errorf("%q", s)
	}
}

// stallingServer answers with headers and head (when not nil), then sends
// nothing more until the test ends.
func stallingServer(t *testing.T, head []byte) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if head != nil {
			w.Header().Set("Content-Length", strconv.Itoa(100*len(head)))
			w.Write(head)
			http.NewResponseController(w).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)                 // runs second: waits for the handler
	t.Cleanup(func() { close(release) }) // runs first: releases it
	return srv
}

// TestLoadUnreachable: on the offline layout (training batches complete, no
// test batch) with downloading on and the server unreachable, the training
// set loads and the missing test batch is "not available", named before the
// network error; a missing training batch is an error naming it first.
func TestLoadUnreachable(t *testing.T) {
	ctx := context.Background()
	srv := testkit.UnreachableServer(t)
	layout := func(t *testing.T, drop ...string) Config {
		dir := t.TempDir()
		files := cifar10Fixture(4)
		for _, n := range drop {
			delete(files, n)
		}
		writeFolder(t, dir, "cifar-10-batches-bin", files)
		cfg := fixtureConfig(t, dir)
		cfg.Download, cfg.BaseURL, cfg.HTTPClient = true, srv.URL+"/kriz", srv.Client()
		return cfg
	}
	// namesFirst checks that err names file, and names it before the download.
	namesFirst := func(t *testing.T, err error, file string) {
		t.Helper()
		msg := err.Error()
		i, j := strings.Index(msg, file), strings.Index(msg, "could not reach")
		if i < 0 || j < 0 || i > j {
			t.Errorf("error should name %s, then say the download could not reach the server: %v", file, err)
		}
		if !strings.Contains(msg, srv.URL+"/kriz/cifar-10-binary.tar.gz") {
			t.Errorf("error lacks the URL tried: %v", err)
		}
	}

	t.Run("offline layout", func(t *testing.T) {
		train, test, err := LoadCIFAR10(ctx, layout(t, "test_batch.bin"))
		if train == nil || test != nil || !errors.Is(err, ErrNoTestSet) || !errors.Is(err, ErrMissing) || !errors.Is(err, ErrDownload) {
			t.Fatalf("got train %v, test %v, %v; want the training set and ErrNoTestSet", train != nil, test != nil, err)
		}
		if train.N != 20 {
			t.Errorf("N = %d", train.N)
		}
		namesFirst(t, err, "test_batch.bin")
		var me *MissingError
		if !errors.Is(err, ErrUnreachable) || !errors.As(err, &me) || !me.Unreachable() ||
			!slices.Equal(me.Files, []string{"test_batch.bin"}) || me.Archive != "cifar-10-binary.tar.gz" {
			t.Errorf("MissingError %+v", me)
		}
	})

	t.Run("missing training batch", func(t *testing.T) {
		d, err := Load(ctx, layout(t, "data_batch_5.bin"), CIFAR10Train)
		if d != nil || !errors.Is(err, ErrMissing) || !errors.Is(err, ErrDownload) || !errors.Is(err, ErrUnreachable) {
			t.Fatalf("got %v, %v; want ErrMissing and ErrDownload", d != nil, err)
		}
		namesFirst(t, err, "data_batch_5.bin")
	})

	t.Run("server answers wrongly", func(t *testing.T) {
		// A server that answers (here 404) is not an offline network: the
		// test set's absence is then an error, still naming the file first.
		srv404, _ := archiveServer(t, "none", nil, nil)
		cfg := layout(t, "test_batch.bin")
		cfg.BaseURL, cfg.HTTPClient = srv404.URL+"/kriz", srv404.Client()
		train, _, err := LoadCIFAR10(ctx, cfg)
		if train != nil || errors.Is(err, ErrNoTestSet) || !errors.Is(err, ErrDownload) || !errors.Is(err, ErrMissing) || errors.Is(err, ErrUnreachable) {
			t.Fatalf("got train %v, %v; want an error", train != nil, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "404") || strings.Index(msg, "test_batch.bin") > strings.Index(msg, "404") {
			t.Errorf("error should name test_batch.bin, then the HTTP status: %v", err)
		}
	})
}

// TestDownloadTimeouts: a server that stops sending (or never answers) ends
// the download with an error once the configured idle (or connect) timeout
// has passed, and leaves nothing in the cache.
func TestDownloadTimeouts(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		head []byte // sent before stalling; nil: no response at all
		want string
	}{
		{"idle", make([]byte, 1000), "no data"},
		{"connect", nil, "no response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := stallingServer(t, tc.head)
			cache := t.TempDir()
			cfg := Config{CacheDir: cache, HTTPClient: srv.Client(), BaseURL: srv.URL, SkipMD5: true,
				ConnectTimeout: 200 * time.Millisecond, IdleTimeout: 200 * time.Millisecond}
			err := loadWithin(t, func() error { return Download(ctx, cfg, CIFAR100Train) })
			if !errors.Is(err, ErrDownload) || !errors.Is(err, ErrUnreachable) ||
				!strings.Contains(err.Error(), tc.want+" ") || !strings.Contains(err.Error(), "200ms") ||
				!strings.Contains(err.Error(), "cifar-100-binary.tar.gz") {
				t.Fatalf("got %v; want ErrDownload and ErrUnreachable saying %q for 200ms", err, tc.want)
			}
			if left := listTree(t, cache); len(left) != 1 {
				t.Errorf("left in cache: %v", left)
			}
		})
	}
}
