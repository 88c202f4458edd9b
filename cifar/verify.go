package cifar

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"github.com/hgdtune/hgdtune/internal/atomicfile"
	"io/fs"
	"os"
	"path/filepath"
)

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// verificationStamp records that the file at Path, with this size and
// modification time, had this MD5. Stamps live in <cache>/verified/, one
// small JSON file per verified path, so that concurrent processes never
// lose each other's stamps; they are never written into the data folder.
type verificationStamp struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
	MD5     string `json:"md5"`
}

func (r resolved) stampPath(path string) string {
	if r.cacheDir == "" {
		return ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	h := sha256.Sum256([]byte(abs))
	return filepath.Join(r.cacheDir, "verified", hex.EncodeToString(h[:16])+".json")
}

// stampValid reports whether a stamp says the file (as described by info)
// has the wanted MD5.
func (r resolved) stampValid(path string, info fs.FileInfo, want string) bool {
	sp := r.stampPath(path)
	if sp == "" {
		return false
	}
	b, err := os.ReadFile(sp)
	if err != nil {
		return false
	}
	var s verificationStamp
	if json.Unmarshal(b, &s) != nil {
		return false
	}
	abs, _ := filepath.Abs(path)
	return s.Path == abs && s.Size == info.Size() && s.ModTime == info.ModTime().UnixNano() && s.MD5 == want
}

// writeStamp records a verified file. Failures are ignored: a missing stamp
// only costs a re-hash next time.
func (r resolved) writeStamp(path string, info fs.FileInfo, sum string) {
	sp := r.stampPath(path)
	if sp == "" {
		return
	}
	abs, _ := filepath.Abs(path)
	b, err := json.Marshal(verificationStamp{Path: abs, Size: info.Size(), ModTime: info.ModTime().UnixNano(), MD5: sum})
	if err != nil {
		return
	}
	_ = writeFileAtomic(sp, b)
}

// writeFileAtomic creates path's folder if needed and writes data to path
// atomically (internal/atomicfile: temporary file, fsync, rename), as an
// ordinary 0644 file.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o644)
}
