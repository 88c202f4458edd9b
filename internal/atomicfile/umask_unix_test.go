//go:build unix

package atomicfile

import (
	"os"
	"syscall"
	"testing"
)

// umask returns the process's file mode creation mask.
func umask(t *testing.T) os.FileMode {
	t.Helper()
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}
