package cifar

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Environment variables read when the corresponding Config field is empty.
const (
	// EnvData names the read-only data folder (the folder holding
	// cifar-10-batches-bin, cifar-100-binary or the .tar.gz archives).
	EnvData = "HGDTUNE_DATA"
	// EnvCache names the writable cache folder (downloads, verification stamps).
	EnvCache = "HGDTUNE_CACHE"
)

// DefaultBaseURL is where the official archives are downloaded from.
const DefaultBaseURL = "https://www.cs.toronto.edu/~kriz/"

// Default download timeouts, used when Config.ConnectTimeout or
// Config.IdleTimeout is zero.
const (
	DefaultConnectTimeout = 30 * time.Second
	DefaultIdleTimeout    = 60 * time.Second
)

// DefaultTrainFraction is the paper's share of the training set used for
// training; the rest is the validation set.
const DefaultTrainFraction = 0.7

// Config says where the data is and how it may be fetched and checked. The
// zero value is ready to use: it reads $HGDTUNE_DATA, then the cache folder,
// never downloads, and verifies every known file's MD5.
type Config struct {
	// DataDir is a read-only folder holding the extracted folders
	// (cifar-10-batches-bin/, cifar-100-binary/) or the archives
	// (cifar-10-binary.tar.gz, cifar-100-binary.tar.gz). Nothing is ever
	// written there. It may also name the extracted folder itself (a path
	// ending in cifar-10-batches-bin or cifar-100-binary). Default:
	// $HGDTUNE_DATA; when that is unset too, only the cache folder is searched.
	DataDir string
	// CacheDir is a writable folder for downloads, their extraction and the
	// MD5 verification stamps. Default: $HGDTUNE_CACHE, else
	// os.UserCacheDir()/hgdtune. When no cache folder can be determined,
	// nothing is cached and downloading fails.
	CacheDir string
	// Download allows fetching a missing archive into CacheDir. Default false:
	// loading never touches the network unless asked to.
	Download bool
	// Progress receives a text progress bar while downloading; nil is silent.
	Progress io.Writer
	// HTTPClient is used for downloads; nil means http.DefaultClient. Its
	// own timeouts, if any, apply as well.
	HTTPClient *http.Client
	// ConnectTimeout bounds the wait for the server's answer: from sending
	// the request until the response headers arrive (name lookup,
	// connection, TLS handshake, the server's reply). 0 means
	// DefaultConnectTimeout (30 s); a negative value waits indefinitely.
	ConnectTimeout time.Duration
	// IdleTimeout ends a download that receives no data for this long
	// (a stalled transfer); there is no limit on the whole transfer's
	// duration. 0 means DefaultIdleTimeout (60 s); a negative value waits
	// indefinitely. Either timeout fails the download with an error wrapping
	// ErrDownload and ErrUnreachable.
	IdleTimeout time.Duration
	// BaseURL is the URL prefix of the archives; "" means DefaultBaseURL.
	BaseURL string
	// SkipMD5 disables all MD5 checks (for user-supplied copies of the files).
	SkipMD5 bool
	// Rehash ignores the verification stamps and hashes every file again
	// (writing fresh stamps). A stamp records a file's absolute path, size,
	// modification time and MD5 once it has been verified, and is trusted
	// while path, size and modification time still match, so a file changed
	// in place with its modification time restored passes; Rehash forces the
	// full check.
	Rehash bool
	// TestFile, when set, is the path of the test-set file to load instead of
	// the official one (test_batch.bin or test.bin), e.g. a stand-in copy.
	// It is still checked against the official MD5 unless SkipTestMD5 (or
	// SkipMD5) is set.
	TestFile string
	// SkipTestMD5 disables the MD5 check of the test-set file only.
	SkipTestMD5 bool
	// AnyRecordCount accepts data files with any positive whole number of
	// records instead of the official counts (10,000 per CIFAR-10 batch,
	// 50,000/10,000 for CIFAR-100 train/test); for small fixtures and subsets.
	AnyRecordCount bool
	// Workers is the number of goroutines decoding files; 0 means
	// min(GOMAXPROCS, number of files).
	Workers int
	// TrainFiles limits the CIFAR-10 training set to its first TrainFiles
	// batch files (data_batch_1.bin … ; 1–5, 10,000 images each; 0 means all
	// five). For quick runs and machines that hold only part of the data.
	// Other sets ignore it.
	TrainFiles int
}

// Validate reports whether the Config is usable.
func (c Config) Validate() error {
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil {
			return fmt.Errorf("%w: BaseURL %q: %w", ErrConfig, c.BaseURL, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("%w: BaseURL %q: scheme must be http or https", ErrConfig, c.BaseURL)
		}
	}
	if c.Workers < 0 {
		return fmt.Errorf("%w: Workers %d < 0", ErrConfig, c.Workers)
	}
	if c.TrainFiles < 0 || c.TrainFiles > 5 {
		return fmt.Errorf("%w: TrainFiles %d not in 0..5", ErrConfig, c.TrainFiles)
	}
	return nil
}

// resolved is a Config with its defaults filled in.
type resolved struct {
	Config
	dataDir, cacheDir string
}

func (c Config) resolve() resolved {
	r := resolved{Config: c, dataDir: c.DataDir, cacheDir: c.CacheDir}
	if r.dataDir == "" {
		r.dataDir = os.Getenv(EnvData)
	}
	if r.cacheDir == "" {
		r.cacheDir = os.Getenv(EnvCache)
	}
	if r.cacheDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			r.cacheDir = filepath.Join(d, "hgdtune")
		}
	}
	if r.BaseURL == "" {
		r.BaseURL = DefaultBaseURL
	}
	if r.HTTPClient == nil {
		r.HTTPClient = http.DefaultClient
	}
	return r
}

// Dirs returns the data and cache folders this Config resolves to (either
// may be "").
func (c Config) Dirs() (dataDir, cacheDir string) {
	r := c.resolve()
	return r.dataDir, r.cacheDir
}
