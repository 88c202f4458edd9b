// Package backendtest gives tests and benchmarks a compute backend that is
// finalized when they end.
package backendtest

import (
	"testing"

	"github.com/gomlx/compute"

	"github.com/hgdtune/hgdtune/backend"
)

// Go returns GoMLX's pure-Go backend, finalized by t's cleanup; it fails t
// when the backend cannot be created.
func Go(t testing.TB) compute.Backend {
	t.Helper()
	be, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(be.Finalize)
	return be
}
