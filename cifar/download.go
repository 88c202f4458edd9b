package cifar

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/hgdtune/hgdtune/internal/atomicfile"
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
	if err := r.fetch(ctx, r.archiveURL(sp), dst); err != nil {
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

// archiveURL is where the set's archive is downloaded from.
func (r resolved) archiveURL(sp setSpec) string {
	return strings.TrimSuffix(r.BaseURL, "/") + "/" + sp.archive
}

// downloadError is a failed download. It unwraps to ErrDownload, to
// ErrUnreachable when the server could not be reached, and to its cause.
type downloadError struct {
	url         string
	unreachable bool
	err         error
}

func (e *downloadError) Error() string {
	if e.unreachable {
		return fmt.Sprintf("%v: could not reach %s: %v", ErrDownload, e.url, e.err)
	}
	return fmt.Sprintf("%v: %s: %v", ErrDownload, e.url, e.err)
}

func (e *downloadError) Unwrap() []error {
	if e.unreachable {
		return []error{ErrDownload, ErrUnreachable, e.err}
	}
	return []error{ErrDownload, e.err}
}

// timeouts returns the connect and idle timeouts in effect (0: none).
func (r resolved) timeouts() (connect, idle time.Duration) {
	connect, idle = r.ConnectTimeout, r.IdleTimeout
	if connect == 0 {
		connect = DefaultConnectTimeout
	}
	if idle == 0 {
		idle = DefaultIdleTimeout
	}
	return max(connect, 0), max(idle, 0)
}

// timeoutError is the cause given to the request's context when a timeout
// fires.
type timeoutError struct{ what string }

func (e timeoutError) Error() string { return e.what }

// fetch downloads url into dst atomically, checking dst's known MD5.
// Failures to reach the server, time-outs and connections lost mid-transfer
// are marked unreachable; the parent context's cancellation is returned as is
// (wrapped).
func (r resolved) fetch(parent context.Context, url, dst string) error {
	name := filepath.Base(dst)
	connectTimeout, idleTimeout := r.timeouts()
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	// fail wraps err; network failures (anything but the parent's
	// cancellation) are marked unreachable, with the timeout as their cause
	// when one fired.
	fail := func(err error, network bool) error {
		if parent.Err() != nil {
			return &downloadError{url: url, err: parent.Err()}
		}
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		return &downloadError{url: url, unreachable: network, err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fail(err, false)
	}
	// Connect timeout: until the response headers arrive.
	var connectTimer *time.Timer
	if connectTimeout > 0 {
		connectTimer = time.AfterFunc(connectTimeout, func() {
			cancel(timeoutError{fmt.Sprintf("no response within %v", connectTimeout)})
		})
	}
	resp, err := r.HTTPClient.Do(req)
	if connectTimer != nil {
		connectTimer.Stop()
	}
	if err != nil {
		return fail(err, true)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("HTTP status %s", resp.Status), false)
	}
	var body io.Reader = resp.Body
	if idleTimeout > 0 {
		idle := time.AfterFunc(idleTimeout, func() {
			cancel(timeoutError{fmt.Sprintf("no data received for %v", idleTimeout)})
		})
		defer idle.Stop()
		body = &idleReader{r: resp.Body, timer: idle, d: idleTimeout}
	}
	// The archive is written whole or not at all (internal/atomicfile:
	// temporary file beside dst, fsync, rename; an ordinary 0644 file).
	// inner is the download's own error (network or checksum) and network
	// whether it is a network failure; an error of Write without inner is
	// a local write failure (a full disk).
	var inner error
	network := false
	err = atomicfile.Write(dst, 0o644, func(out io.Writer) error {
		h := md5.New()
		var w io.Writer = io.MultiWriter(out, h)
		var bar *progressBar
		if r.Progress != nil {
			bar = newProgressBar(r.Progress, name, resp.ContentLength)
			w = io.MultiWriter(w, bar)
		}
		n, err := io.Copy(markWrites{w}, body)
		if bar != nil {
			bar.finish()
		}
		if err != nil {
			var we writeError
			if errors.As(err, &we) {
				return we.err // local: Write reports it
			}
			inner, network = err, true
			return err
		}
		if resp.ContentLength >= 0 && n != resp.ContentLength {
			inner, network = fmt.Errorf("truncated: got %d of %d bytes", n, resp.ContentLength), true
			return inner
		}
		got := hex.EncodeToString(h.Sum(nil))
		if want, known := KnownMD5(name); known && !r.SkipMD5 && got != want {
			inner = &ChecksumError{File: name, Want: want, Got: got}
			return inner
		}
		return nil
	})
	switch {
	case inner != nil:
		return fail(inner, network)
	case err != nil:
		return fail(err, false)
	}
	return nil
}

// markWrites marks w's errors as writeError, so that after io.Copy a local
// write failure (a full disk) is told apart from a network read failure.
type markWrites struct{ w io.Writer }

func (m markWrites) Write(p []byte) (int, error) {
	n, err := m.w.Write(p)
	if err != nil {
		err = writeError{err}
	}
	return n, err
}

type writeError struct{ err error }

func (e writeError) Error() string { return e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

// idleReader restarts timer (which cancels the download) whenever data
// arrives.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
	d     time.Duration
}

func (ir *idleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if n > 0 {
		ir.timer.Reset(ir.d)
	}
	return n, err
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
