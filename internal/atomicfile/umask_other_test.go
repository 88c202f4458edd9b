//go:build !unix

package atomicfile

import (
	"os"
	"testing"
)

// umask is 0 where there is none.
func umask(*testing.T) os.FileMode { return 0 }
