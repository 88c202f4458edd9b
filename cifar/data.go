package cifar

import (
	"errors"
	"fmt"
	"strings"
)

// Image geometry shared by CIFAR-10 and CIFAR-100.
const (
	ImageHeight   = 32
	ImageWidth    = 32
	ImageChannels = 3
	// ImageSize is the number of pixel bytes of one image (3×32×32, CHW).
	ImageSize = ImageChannels * ImageHeight * ImageWidth
	planeSize = ImageHeight * ImageWidth
)

// Sentinel errors. Every error returned by this package's loaders wraps one
// of them (test with errors.Is) and names the file it is about.
var (
	// ErrConfig reports an invalid Config, SplitConfig or BatcherConfig.
	ErrConfig = errors.New("cifar: invalid configuration")
	// ErrMissing reports a data file found in none of the places searched;
	// the concrete error is a *MissingError.
	ErrMissing = errors.New("cifar: data file not found")
	// ErrNoTestSet reports that a training set was loaded but its test set
	// is not available (LoadCIFAR10/LoadCIFAR100 then return train, nil, err).
	ErrNoTestSet = errors.New("cifar: test set not available")
	// ErrFormat reports a malformed data file: a size that is not a whole
	// number of records, a wrong record count, a label out of range, a
	// label-name file with the wrong number of names, or a path that is not
	// a regular file (a folder, named pipe, device or socket where a data
	// file or archive is expected).
	ErrFormat = errors.New("cifar: malformed data file")
	// ErrChecksum reports an MD5 mismatch; the concrete error is a
	// *ChecksumError carrying the file and both sums.
	ErrChecksum = errors.New("cifar: MD5 mismatch")
	// ErrArchive reports a corrupt or truncated .tar.gz archive.
	ErrArchive = errors.New("cifar: corrupt archive")
	// ErrDownload reports a failed download (network, HTTP status, checksum,
	// no cache folder to download into).
	ErrDownload = errors.New("cifar: download failed")
	// ErrUnreachable accompanies ErrDownload when the download server could
	// not be reached or stopped answering: name lookup, connection or TLS
	// failure, no response within Config.ConnectTimeout, no data for
	// Config.IdleTimeout, or a connection lost mid-transfer. Loading treats
	// it as an offline network: the files are just not available.
	ErrUnreachable = errors.New("cifar: download server unreachable")
	// ErrState reports a BatcherState that does not fit the Batcher.
	ErrState = errors.New("cifar: invalid batcher state")
)

// ChecksumError is the error for an MD5 mismatch. It unwraps to ErrChecksum.
type ChecksumError struct {
	File string // path of the file (or archive member) checked
	Want string // expected (official) MD5, hex
	Got  string // actual MD5, hex
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("cifar: MD5 mismatch for %s: expected %s, got %s", e.File, e.Want, e.Got)
}

// Unwrap returns ErrChecksum.
func (e *ChecksumError) Unwrap() error { return ErrChecksum }

// MissingError is the error for data files found in none of the places
// searched. It unwraps to ErrMissing and, when a download was tried and
// failed, to the download's error too (ErrDownload; with ErrUnreachable when
// the server could not be reached). Its message names the missing files
// first, then the download's failure, then how to provide the files in
// terms of this package's API; command-line front ends can build their own
// advice from the fields.
type MissingError struct {
	Set      Set      // the data set being loaded
	Files    []string // official base names of the files not found, e.g. "test_batch.bin"
	Searched []string // the folders and archives searched, in order
	DataDir  string   // the data folder ("" when none is configured)
	Folder   string   // where the files belong: the set's extracted folder inside DataDir ("" without DataDir)
	Archive  string   // base name of the official archive holding them, e.g. "cifar-10-binary.tar.gz"
	URL      string   // where that archive is downloaded from
	// Download reports whether downloading was allowed (Config.Download).
	Download bool
	// DownloadErr is why the download failed; nil when none was tried.
	DownloadErr error
}

// Unreachable reports whether a download was tried and could not reach the
// server (an offline network).
func (e *MissingError) Unreachable() bool {
	return e.DownloadErr != nil && errors.Is(e.DownloadErr, ErrUnreachable)
}

func (e *MissingError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v: %s", ErrMissing, strings.Join(e.Files, ", "))
	if len(e.Searched) > 0 {
		fmt.Fprintf(&b, " (searched %s)", strings.Join(e.Searched, ", "))
	} else {
		b.WriteString(" (searched nowhere: no data or cache folder configured)")
	}
	if e.DownloadErr != nil {
		fmt.Fprintf(&b, "; %v", e.DownloadErr)
	}
	if e.Folder != "" {
		fmt.Fprintf(&b, "; put %s into %s or %s into %s", strings.Join(e.Files, ", "), e.Folder, e.Archive, e.DataDir)
	} else {
		fmt.Fprintf(&b, "; set Config.DataDir or $%s to a folder holding %s or %s", EnvData, e.setFolder(), e.Archive)
	}
	if !e.Download {
		fmt.Fprintf(&b, ", or set Config.Download to fetch %s", e.URL)
	}
	return b.String()
}

// setFolder is the name of the set's extracted folder.
func (e *MissingError) setFolder() string {
	sp, err := e.Set.spec()
	if err != nil {
		return "the extracted folder"
	}
	return sp.folder + "/"
}

// Unwrap returns ErrMissing and the download's error, if any.
func (e *MissingError) Unwrap() []error {
	if e.DownloadErr != nil {
		return []error{ErrMissing, e.DownloadErr}
	}
	return []error{ErrMissing}
}

// Set names one of the four official data sets.
type Set int

// The data sets this package reads.
const (
	CIFAR10Train Set = iota
	CIFAR10Test
	CIFAR100Train
	CIFAR100Test
)

// String returns e.g. "CIFAR-10 train".
func (s Set) String() string {
	switch s {
	case CIFAR10Train:
		return "CIFAR-10 train"
	case CIFAR10Test:
		return "CIFAR-10 test"
	case CIFAR100Train:
		return "CIFAR-100 train"
	case CIFAR100Test:
		return "CIFAR-100 test"
	}
	return fmt.Sprintf("cifar.Set(%d)", int(s))
}

// setSpec describes the files of one data set in the official layout.
type setSpec struct {
	archive    string   // archive file name, e.g. "cifar-10-binary.tar.gz"
	folder     string   // folder the archive extracts to
	files      []string // data files, in order
	records    int      // official records per data file
	labelBytes int      // 1 (CIFAR-10: label) or 2 (CIFAR-100: coarse, fine)
	classes    int      // number of (fine) classes
	coarse     int      // number of coarse classes (CIFAR-100), else 0
	names      string   // file with the (fine) class names
	coarseFile string   // file with the coarse class names (CIFAR-100)
	test       bool
}

func (s Set) spec() (setSpec, error) {
	c10 := setSpec{
		archive: "cifar-10-binary.tar.gz", folder: "cifar-10-batches-bin",
		records: 10000, labelBytes: 1, classes: 10, names: "batches.meta.txt",
	}
	c100 := setSpec{
		archive: "cifar-100-binary.tar.gz", folder: "cifar-100-binary",
		labelBytes: 2, classes: 100, coarse: 20,
		names: "fine_label_names.txt", coarseFile: "coarse_label_names.txt",
	}
	switch s {
	case CIFAR10Train:
		c10.files = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
		return c10, nil
	case CIFAR10Test:
		c10.files = []string{"test_batch.bin"}
		c10.test = true
		return c10, nil
	case CIFAR100Train:
		c100.files = []string{"train.bin"}
		c100.records = 50000
		return c100, nil
	case CIFAR100Test:
		c100.files = []string{"test.bin"}
		c100.records = 10000
		c100.test = true
		return c100, nil
	}
	return setSpec{}, fmt.Errorf("%w: unknown set %d", ErrConfig, int(s))
}

func (sp setSpec) recordSize() int { return sp.labelBytes + ImageSize }

// KnownMD5 returns the official MD5 (lowercase hex) of a known CIFAR file,
// given its base name (e.g. "data_batch_1.bin", "cifar-100-binary.tar.gz").
// CIFAR-100's "train.bin" and "test.bin" are known by those names.
func KnownMD5(name string) (string, bool) {
	switch name {
	case "cifar-10-binary.tar.gz":
		return "c32a1d4ab5d03f1284b67883e8d87530", true
	case "cifar-100-binary.tar.gz":
		return "03b5dce01913d631647c71ecec9e9cb8", true
	case "data_batch_1.bin":
		return "5dd7e06a14cb22eb9f671a540d1b7c25", true
	case "data_batch_2.bin":
		return "5ea93a67294ea407fff1d09f752e9692", true
	case "data_batch_3.bin":
		return "942cd6a4bcdd0dd3c604fbe906cb4421", true
	case "data_batch_4.bin":
		return "ae636b3ba5c66a11e91e8cb52e771fcb", true
	case "data_batch_5.bin":
		return "53f37980c15c3d472c316c40844f3f0d", true
	case "test_batch.bin":
		return "803d5f7f4d78ea53de84dbe85f74fb6d", true
	case "train.bin":
		return "6172c7755cfe09b2fe270c85cebc1b15", true
	case "test.bin":
		return "4499cfba6c016c1be1438163640a0898", true
	}
	return "", false
}

// FileStatus records where one file of a Dataset came from and how it was
// checked.
type FileStatus struct {
	Name     string // base name, e.g. "data_batch_1.bin"
	Path     string // file path, or "archive.tar.gz:member" for archive members
	Size     int64  // bytes
	Records  int    // records decoded (0 for label-name files)
	MD5      string // the official MD5, "" when none is known
	Verified bool   // the content was checked against MD5 (now or by a valid stamp)
	Note     string // e.g. "MD5 check skipped", "verified by stamp"
}

// Dataset is one loaded data set. Pixels holds N images of ImageSize bytes
// each, in file order and file layout (CHW: 1024 red, 1024 green, 1024 blue
// bytes, rows top to bottom). Labels holds the (fine) labels, Coarse the
// CIFAR-100 coarse labels (nil for CIFAR-10).
type Dataset struct {
	Name          string // e.g. "CIFAR-10 train"
	Set           Set
	N             int
	Pixels        []uint8
	Labels        []uint8
	Coarse        []uint8
	Classes       []string
	CoarseClasses []string
	Files         []FileStatus
}

// Image returns the ImageSize CHW bytes of image i (a view, not a copy).
func (d *Dataset) Image(i int) []uint8 { return d.Pixels[i*ImageSize : (i+1)*ImageSize] }

// ClassCounts returns the number of images per (fine) class.
func (d *Dataset) ClassCounts() []int {
	counts := make([]int, len(d.Classes))
	for _, l := range d.Labels {
		if int(l) < len(counts) {
			counts[l]++
		}
	}
	return counts
}

// Head returns a view of the first n images (all of them when n ≤ 0 or
// n ≥ N), sharing the pixel and label storage; its Name says it is a part.
func (d *Dataset) Head(n int) *Dataset {
	if n <= 0 || n >= d.N {
		return d
	}
	c := *d
	c.N = n
	c.Pixels = d.Pixels[:n*ImageSize]
	c.Labels = d.Labels[:n]
	if d.Coarse != nil {
		c.Coarse = d.Coarse[:n]
	}
	c.Name = fmt.Sprintf("%s (first %d images)", d.Name, n)
	return &c
}

// All returns a Subset holding every image of d, in order.
func (d *Dataset) All() *Subset {
	idx := make([]int32, d.N)
	for i := range idx {
		idx[i] = int32(i)
	}
	return &Subset{Data: d, Indices: idx}
}

// parseNames parses a label-name file: one name a line, blank lines ignored.
func parseNames(path string, data []byte, want int) ([]string, error) {
	var names []string
	for line := range strings.Lines(string(data)) {
		if s := strings.TrimSpace(line); s != "" {
			names = append(names, s)
		}
	}
	if len(names) != want {
		return nil, fmt.Errorf("%w: %s: %d class names, want %d", ErrFormat, path, len(names), want)
	}
	return names, nil
}

// checkSize validates a data file's size and returns its record count.
func (sp setSpec) checkSize(path string, size int64, anyCount bool) (int, error) {
	rs := int64(sp.recordSize())
	if size == 0 {
		return 0, fmt.Errorf("%w: %s: empty file", ErrFormat, path)
	}
	if size%rs != 0 {
		return 0, fmt.Errorf("%w: %s: size %d bytes is not a multiple of the %d-byte record (truncated?)", ErrFormat, path, size, rs)
	}
	n := int(size / rs)
	if !anyCount && n != sp.records {
		return 0, fmt.Errorf("%w: %s: %d records, want %d", ErrFormat, path, n, sp.records)
	}
	return n, nil
}

// decodeRecords splits raw records into labels and pixels. raw must hold
// exactly len(labels) records. Labels are range-checked.
func (sp setSpec) decodeRecords(path string, raw []byte, pixels, labels, coarse []uint8) error {
	rs := sp.recordSize()
	n := len(labels)
	if len(raw) != n*rs || len(pixels) != n*ImageSize {
		return fmt.Errorf("%w: %s: internal size mismatch", ErrFormat, path)
	}
	fineMax := uint8(sp.classes - 1)
	if sp.labelBytes == 1 {
		for i := range n {
			rec := raw[i*rs : (i+1)*rs : (i+1)*rs]
			labels[i] = rec[0]
			copy(pixels[i*ImageSize:(i+1)*ImageSize], rec[1:])
		}
		for i, l := range labels {
			if l > fineMax {
				return fmt.Errorf("%w: %s: record %d: label %d out of range 0..%d", ErrFormat, path, i, l, fineMax)
			}
		}
		return nil
	}
	coarseMax := uint8(sp.coarse - 1)
	for i := range n {
		rec := raw[i*rs : (i+1)*rs : (i+1)*rs]
		coarse[i] = rec[0]
		labels[i] = rec[1]
		copy(pixels[i*ImageSize:(i+1)*ImageSize], rec[2:])
	}
	for i := range n {
		if coarse[i] > coarseMax {
			return fmt.Errorf("%w: %s: record %d: coarse label %d out of range 0..%d", ErrFormat, path, i, coarse[i], coarseMax)
		}
		if labels[i] > fineMax {
			return fmt.Errorf("%w: %s: record %d: fine label %d out of range 0..%d", ErrFormat, path, i, labels[i], fineMax)
		}
	}
	return nil
}
