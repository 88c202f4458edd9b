//go:build unix

package testkit

import (
	"os"
	"syscall"
	"testing"
)

// Umask returns the process's file mode creation mask.
func Umask(t testing.TB) os.FileMode {
	t.Helper()
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}
