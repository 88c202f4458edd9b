//go:build !unix

package testkit

import (
	"os"
	"testing"
)

// Umask is 0 where there is none.
func Umask(testing.TB) os.FileMode { return 0 }
