package cifar

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Download fetches the archive holding set into the cache folder, checks its
// MD5 (unless cfg.SkipMD5) and extracts it there. It downloads even when
// cfg.Download is false: calling it is the explicit request. The archive is
// written to a temporary file and renamed into place only once complete and
// verified, so no partial file is ever left under the archive's name.
func Download(ctx context.Context, cfg Config, set Set) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	sp, err := set.spec()
	if err != nil {
		return err
	}
	return cfg.resolve().download(ctx, sp)
}

func (r resolved) download(ctx context.Context, sp setSpec) error {
	if r.cacheDir == "" {
		return fmt.Errorf("%w: %s: no cache folder (set %s or Config.CacheDir)", ErrDownload, sp.archive, EnvCache)
	}
	if err := os.MkdirAll(r.cacheDir, 0o755); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrDownload, sp.archive, err)
	}
	dst := filepath.Join(r.cacheDir, sp.archive)
	u := strings.TrimSuffix(r.BaseURL, "/") + "/" + sp.archive
	if err := r.fetch(ctx, u, dst); err != nil {
		return err
	}
	if err := extractArchive(ctx, dst, sp.folder, r.cacheDir); err != nil {
		if errors.Is(err, ErrArchive) {
			os.Remove(dst) // we downloaded it and it is unusable
		}
		return err
	}
	return nil
}

// fetch downloads url into dst atomically, checking dst's known MD5.
func (r resolved) fetch(ctx context.Context, url, dst string) error {
	name := filepath.Base(dst)
	fail := func(err error) error { return fmt.Errorf("%w: %s: %w", ErrDownload, url, err) }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fail(err)
	}
	resp, err := r.HTTPClient.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("HTTP status %s", resp.Status))
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+name+".part-*")
	if err != nil {
		return fail(err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	h := md5.New()
	var w io.Writer = io.MultiWriter(tmp, h)
	var bar *progressBar
	if r.Progress != nil {
		bar = newProgressBar(r.Progress, name, resp.ContentLength)
		w = io.MultiWriter(w, bar)
	}
	n, err := io.Copy(w, resp.Body)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		return fail(err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fail(fmt.Errorf("truncated: got %d of %d bytes", n, resp.ContentLength))
	}
	got := hex.EncodeToString(h.Sum(nil))
	if want, known := KnownMD5(name); known && !r.SkipMD5 && got != want {
		return fail(&ChecksumError{File: name, Want: want, Got: got})
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmpName, dst); err != nil {
		return fail(err)
	}
	ok = true
	return nil
}

// progressBar renders a one-line text progress bar, redrawn with '\r' at
// most every 100 ms and once more at the end.
type progressBar struct {
	w           io.Writer
	name        string
	total, done int64
	start, last time.Time
}

func newProgressBar(w io.Writer, name string, total int64) *progressBar {
	now := time.Now()
	p := &progressBar{w: w, name: name, total: total, start: now}
	p.render(now)
	return p
}

func (p *progressBar) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.render(now)
	}
	return len(b), nil
}

func (p *progressBar) finish() {
	p.render(time.Now())
	fmt.Fprintln(p.w)
}

func (p *progressBar) render(now time.Time) {
	p.last = now
	const width = 30
	mb := func(n int64) float64 { return float64(n) / 1e6 }
	rate := 0.0
	if el := now.Sub(p.start).Seconds(); el > 0 {
		rate = mb(p.done) / el
	}
	if p.total > 0 {
		frac := min(float64(p.done)/float64(p.total), 1)
		fill := int(frac * width)
		fmt.Fprintf(p.w, "\rdownloading %s %5.1f%% [%s%s] %.1f/%.1f MB %.1f MB/s",
			p.name, 100*frac, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), mb(p.done), mb(p.total), rate)
		return
	}
	fmt.Fprintf(p.w, "\rdownloading %s %.1f MB %.1f MB/s", p.name, mb(p.done), rate)
}
