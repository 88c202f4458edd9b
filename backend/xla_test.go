//go:build xla && cgo

package backend

import (
	"strings"
	"testing"
)

// With XLA compiled in but no plugin installed, asking for one by name must
// fail at once with advice, never try to download.
func TestXLAMissingPluginNoDownload(t *testing.T) {
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir())
	_, err := New("xla:definitely_not_a_plugin")
	if err == nil {
		t.Skip("a plugin by that name exists on this machine")
	}
	if !strings.Contains(err.Error(), EnvPlugin) {
		t.Errorf("error lacks advice: %v", err)
	}
}
