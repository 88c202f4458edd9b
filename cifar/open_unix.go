//go:build unix

package cifar

import (
	"os"
	"syscall"
)

// openFlags opens data files without blocking: opening a FIFO for reading
// otherwise waits for a writer. Reads from regular files are unaffected.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
