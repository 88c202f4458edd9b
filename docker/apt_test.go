package docker

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every apt-get update or install that the scripts and CI run waits for a
// dpkg lock held by another process (an unattended upgrade, a second
// script) instead of failing at once: DPkg::Lock::Timeout.
func TestAptWaitsForLock(t *testing.T) {
	files, err := filepath.Glob("../scripts/*.sh")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../.ci/run")
	call := regexp.MustCompile(`\bapt-get\s+(?:-\S+\s+(?:\S+=\S+\s+)?)*(update|install)\b`)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			code := strings.TrimSpace(line)
			if strings.HasPrefix(code, "#") || strings.HasPrefix(code, "log ") {
				continue
			}
			for _, m := range call.FindAllString(code, -1) {
				n++
				if !strings.Contains(m, "DPkg::Lock::Timeout=") {
					t.Errorf("%s:%d: %q does not wait for the dpkg lock (-o DPkg::Lock::Timeout=…)", f, i+1, m)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no apt-get call found: the test reads the wrong files")
	}
}
