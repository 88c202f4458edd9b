package cifar

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
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
