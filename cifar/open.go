package cifar

import (
	"fmt"
	"io/fs"
	"os"
)

// openRegular opens path for reading. Only a regular file (or a symbolic
// link to one) is accepted: a folder, named pipe (FIFO), device or socket in
// its place is an error wrapping ErrFormat that names it. The path is
// checked with os.Stat before it is opened, opened without blocking (a FIFO
// without a writer would otherwise block forever, deaf to cancellation) and
// checked again once open, in case it was replaced in between. A path that
// does not exist yields an error wrapping fs.ErrNotExist.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if err := checkRegular(path, info); err != nil {
		return nil, nil, err
	}
	fh, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	if info, err = fh.Stat(); err != nil {
		fh.Close()
		return nil, nil, err
	}
	if err := checkRegular(path, info); err != nil {
		fh.Close()
		return nil, nil, err
	}
	return fh, info, nil
}

// checkRegular returns nil for a regular file, else an error naming path
// and what it is.
func checkRegular(path string, info fs.FileInfo) error {
	m := info.Mode()
	if m.IsRegular() {
		return nil
	}
	what := "a special file"
	switch {
	case m.IsDir():
		what = "a folder"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a block device"
	case m&fs.ModeSymlink != 0:
		what = "a symbolic link"
	}
	return fmt.Errorf("%w: %s is %s, not a regular file", ErrFormat, path, what)
}
