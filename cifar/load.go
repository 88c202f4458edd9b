package cifar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// LoadCIFAR10 loads the CIFAR-10 training and test sets. When the training
// set loads but no test set is available — not found, and either
// downloading is off or the download could not reach the server
// (ErrUnreachable) — it returns train, nil and an error wrapping
// ErrNoTestSet and the *MissingError (so also ErrMissing). A missing
// Config.TestFile, or a download the server answered wrongly (an HTTP
// error, a wrong checksum, a corrupt archive), is an ordinary error.
func LoadCIFAR10(ctx context.Context, cfg Config) (train, test *Dataset, err error) {
	return loadPair(ctx, cfg, CIFAR10Train, CIFAR10Test)
}

// LoadCIFAR100 loads the CIFAR-100 training and test sets, with the same
// ErrNoTestSet convention as LoadCIFAR10.
func LoadCIFAR100(ctx context.Context, cfg Config) (train, test *Dataset, err error) {
	return loadPair(ctx, cfg, CIFAR100Train, CIFAR100Test)
}

func loadPair(ctx context.Context, cfg Config, tr, te Set) (*Dataset, *Dataset, error) {
	train, err := Load(ctx, cfg, tr)
	if err != nil {
		return nil, nil, err
	}
	test, err := Load(ctx, cfg, te)
	if err != nil {
		// Not available: not found, and either not downloaded or the
		// download could not reach the server. A missing explicit TestFile,
		// or a server that answered wrongly, is a plain error.
		var me *MissingError
		if errors.As(err, &me) && cfg.TestFile == "" && (me.DownloadErr == nil || me.Unreachable()) {
			return train, nil, fmt.Errorf("%w: %w", ErrNoTestSet, err)
		}
		return nil, nil, err
	}
	return train, test, nil
}

// dataFile is one file to read: from disk (f != nil) or from memory (data).
type dataFile struct {
	name    string // official base name
	path    string // where it comes from
	f       *os.File
	info    fs.FileInfo
	data    []byte
	size    int64
	md5     string // expected sum; "" = no check
	stamped bool   // a valid verification stamp exists
	note    string
	records int
	offset  int // first record index in the Dataset
}

// Load loads one data set. Files are looked up in this order: the data
// folder's extracted folder, the data folder's archive, the cache folder's
// extracted folder, the cache folder's archive; when none has them and
// cfg.Download is set, the archive is downloaded into the cache folder.
// Files still missing are a *MissingError naming them, the places searched
// and, if the download failed, its error (which it also wraps).
func Load(ctx context.Context, cfg Config, set Set) (*Dataset, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sp, err := set.spec()
	if err != nil {
		return nil, err
	}
	if set == CIFAR10Train && cfg.TrainFiles > 0 {
		sp.files = sp.files[:cfg.TrainFiles]
	}
	r := cfg.resolve()

	needed := []string{sp.names}
	if sp.coarseFile != "" {
		needed = append(needed, sp.coarseFile)
	}
	override := sp.test && cfg.TestFile != ""
	if !override {
		needed = append(needed, sp.files...)
	}
	found, err := r.locate(ctx, set, sp, needed)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, f := range found {
			if f.f != nil {
				f.f.Close()
			}
		}
	}()
	if override {
		f, err := openDataFile(sp.files[0], cfg.TestFile)
		if err != nil {
			return nil, err
		}
		if cfg.SkipTestMD5 {
			f.note = "MD5 check skipped (user-supplied test file)"
		}
		found[sp.files[0]] = f
	}

	d := &Dataset{Name: set.String(), Set: set}
	// Label names.
	for _, nf := range []struct {
		name string
		n    int
		dst  *[]string
	}{{sp.names, sp.classes, &d.Classes}, {sp.coarseFile, sp.coarse, &d.CoarseClasses}} {
		if nf.name == "" {
			continue
		}
		f := found[nf.name]
		data := f.data
		if data == nil {
			if data, err = io.ReadAll(f.f); err != nil {
				return nil, fmt.Errorf("cifar: reading %s: %w", f.path, err)
			}
		}
		if *nf.dst, err = parseNames(f.path, data, nf.n); err != nil {
			return nil, err
		}
		d.Files = append(d.Files, FileStatus{Name: nf.name, Path: f.path, Size: int64(len(data)), Note: "no official MD5"})
	}

	// Data files: sizes, record counts, expected sums, stamps.
	files := make([]*dataFile, len(sp.files))
	total := 0
	for i, name := range sp.files {
		f := found[name]
		if f.records, err = sp.checkSize(f.path, f.size, cfg.AnyRecordCount); err != nil {
			return nil, err
		}
		f.offset = total
		total += f.records
		skip := cfg.SkipMD5 || (override && cfg.SkipTestMD5)
		if want, ok := KnownMD5(name); ok && !skip {
			f.md5 = want
			if f.f != nil && !cfg.Rehash {
				f.stamped = r.stampValid(f.path, f.info, want)
			}
		} else if f.note == "" {
			f.note = "MD5 check skipped"
		}
		files[i] = f
	}
	d.N = total
	d.Pixels = make([]uint8, total*ImageSize)
	d.Labels = make([]uint8, total)
	if sp.coarse > 0 {
		d.Coarse = make([]uint8, total)
	}
	if err := r.decodeAll(ctx, sp, files, d); err != nil {
		return nil, err
	}
	for _, f := range files {
		st := FileStatus{Name: f.name, Path: f.path, Size: f.size, Records: f.records, MD5: f.md5, Verified: f.md5 != "", Note: f.note}
		if f.md5 == "" {
			st.MD5, _ = KnownMD5(f.name)
		}
		d.Files = append(d.Files, st)
	}
	return d, nil
}

// decodeAll reads, verifies and decodes the data files in parallel.
func (r resolved) decodeAll(ctx context.Context, sp setSpec, files []*dataFile, d *Dataset) error {
	workers := r.Workers
	if workers == 0 {
		workers = min(runtime.GOMAXPROCS(0), len(files))
	}
	workers = max(1, min(workers, len(files)))
	errs := make([]error, len(files))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var scratch []byte
			for i := range jobs {
				errs[i] = r.decodeOne(ctx, sp, files[i], d, &scratch)
			}
		})
	}
	for i := range files {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return errors.Join(errs...)
}

func (r resolved) decodeOne(ctx context.Context, sp setSpec, f *dataFile, d *Dataset, scratch *[]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	raw := f.data
	if raw == nil {
		if int64(cap(*scratch)) < f.size {
			*scratch = make([]byte, f.size)
		}
		raw = (*scratch)[:f.size]
		if _, err := io.ReadFull(f.f, raw); err != nil {
			return fmt.Errorf("%w: reading %s: %w", ErrFormat, f.path, err)
		}
	}
	// Hash concurrently with decoding when a check is due.
	var sumCh chan string
	if f.md5 != "" && !f.stamped {
		sumCh = make(chan string, 1)
		go func() { sumCh <- md5Hex(raw) }()
	}
	lo, hi := f.offset, f.offset+f.records
	var coarse []uint8
	if d.Coarse != nil {
		coarse = d.Coarse[lo:hi]
	}
	err := sp.decodeRecords(f.path, raw, d.Pixels[lo*ImageSize:hi*ImageSize], d.Labels[lo:hi], coarse)
	if sumCh != nil {
		got := <-sumCh
		if got != f.md5 {
			// A checksum mismatch explains any format error: report it first.
			return &ChecksumError{File: f.path, Want: f.md5, Got: got}
		}
		f.note = "MD5 verified"
		if f.f != nil {
			r.writeStamp(f.path, f.info, got)
		}
	} else if f.stamped {
		f.note = "MD5 verified earlier (stamp)"
	}
	return err
}

func openDataFile(name, path string) (*dataFile, error) {
	fh, info, err := openRegular(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrMissing, path)
		}
		if errors.Is(err, ErrFormat) {
			return nil, err
		}
		return nil, fmt.Errorf("cifar: opening %s: %w", path, err)
	}
	return &dataFile{name: name, path: path, f: fh, info: info, size: info.Size()}, nil
}

// extractedFolder is where dir keeps the set's extracted files: dir itself
// when it is that folder, else the folder inside it.
func extractedFolder(dir string, sp setSpec) string {
	if filepath.Base(filepath.Clean(dir)) == sp.folder {
		return dir
	}
	return filepath.Join(dir, sp.folder)
}

// locate finds the needed files; see Load for the order. Files found
// nowhere yield a *MissingError.
func (r resolved) locate(ctx context.Context, set Set, sp setSpec, needed []string) (map[string]*dataFile, error) {
	found := map[string]*dataFile{}
	var searched []string
	missing := func() []string {
		var m []string
		for _, n := range needed {
			if found[n] == nil {
				m = append(m, n)
			}
		}
		return m
	}
	fail := func(err error) (map[string]*dataFile, error) {
		for _, f := range found {
			if f.f != nil {
				f.f.Close()
			}
		}
		return nil, err
	}
	fromFolder := func(dir string) error {
		folder := extractedFolder(dir, sp)
		searched = append(searched, folder)
		for _, n := range missing() {
			f, err := openDataFile(n, filepath.Join(folder, n))
			if errors.Is(err, ErrMissing) {
				continue
			}
			if err != nil {
				return err
			}
			found[n] = f
		}
		return nil
	}
	fromArchive := func(dir string) error {
		path := filepath.Join(dir, sp.archive)
		searched = append(searched, path)
		info, err := os.Stat(path)
		if err != nil {
			return nil
		}
		if err := checkRegular(path, info); err != nil {
			return err
		}
		want := map[string]bool{}
		for _, n := range missing() {
			want[n] = true
		}
		members, err := r.readArchive(ctx, path, sp.folder, want)
		if err != nil {
			return err
		}
		for n, data := range members {
			found[n] = &dataFile{name: n, path: path + ":" + sp.folder + "/" + n, data: data, size: int64(len(data))}
		}
		return nil
	}
	steps := []func() error{}
	for _, dir := range []string{r.dataDir, r.cacheDir} {
		if dir == "" {
			continue
		}
		steps = append(steps, func() error { return fromFolder(dir) }, func() error { return fromArchive(dir) })
	}
	for _, step := range steps {
		if len(missing()) == 0 {
			break
		}
		if err := step(); err != nil {
			return fail(err)
		}
	}
	var downloadErr error
	if m := missing(); len(m) > 0 && r.Download {
		if err := r.download(ctx, sp); err != nil {
			if ctx.Err() != nil {
				return fail(err)
			}
			downloadErr = err
		} else if err := fromFolder(r.cacheDir); err != nil {
			return fail(err)
		}
	}
	if m := missing(); len(m) > 0 {
		e := &MissingError{Set: set, Files: m, Searched: searched, DataDir: r.dataDir, Archive: sp.archive,
			URL: r.archiveURL(sp), Download: r.Download, DownloadErr: downloadErr}
		if r.dataDir != "" {
			e.Folder = extractedFolder(r.dataDir, sp)
		}
		return fail(e)
	}
	return found, nil
}
