package reproduce

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/hgdtune/hgdtune/internal/atomicfile"
)

// runInfo is what config.json records.
type runInfo struct {
	Preset    Preset    `json:"preset"`
	Backend   string    `json:"backend"`
	Machine   string    `json:"machine"`
	GoVersion string    `json:"go_version"`
	Started   time.Time `json:"started"`
}

func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				if _, v, ok := strings.Cut(line, ":"); ok {
					model = strings.TrimSpace(v)
					break
				}
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
}

// Recorded returns the preset that the results folder dir was made with
// (its config.json), and false when dir has none.
func Recorded(dir string) (Preset, bool, error) {
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Preset{}, false, nil
	} else if err != nil {
		return Preset{}, false, fmt.Errorf("reproduce: %w", err)
	}
	var prev runInfo
	if err := json.Unmarshal(b, &prev); err != nil {
		return Preset{}, false, fmt.Errorf("reproduce: %s: %w", path, err)
	}
	return prev.Preset, true, nil
}

// checkConfig checks that the config.json in dir, if any, records preset
// p (a resumed experiment), naming the fields that differ if not.
func checkConfig(dir string, p Preset) error {
	prev, ok, err := Recorded(dir)
	if err != nil || !ok {
		return err
	}
	if diff := prev.Diff(p); len(diff) > 0 {
		return fmt.Errorf("%w: %s was made with another preset (%s); use another folder, or the settings it was made with",
			ErrConfig, dir, strings.Join(diff, "; "))
	}
	return nil
}

// prepareDir creates the results folder or checks that it belongs to the
// same preset (a resumed experiment), and removes the temporary files of a
// process killed while writing (the caller holds the folder's lock).
func prepareDir(dir string, p Preset, backendDesc string) error {
	if err := os.MkdirAll(filepath.Join(dir, "runs"), 0o755); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	if err := checkConfig(dir, p); err != nil {
		return err
	}
	runs, err := filepath.Glob(filepath.Join(dir, "runs", "*"))
	if err != nil {
		return err
	}
	for _, d := range append([]string{dir}, runs...) {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			if err := atomicfile.RemoveTemps(d); err != nil {
				return fmt.Errorf("reproduce: %w", err)
			}
		}
	}
	path := filepath.Join(dir, "config.json")
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	info := runInfo{Preset: p, Backend: backendDesc, Machine: machine(), GoVersion: runtime.Version(), Started: time.Now().UTC()}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic writes a results file atomically, with permissions 0644;
// its errors name the file.
func writeFileAtomic(path string, data []byte) error {
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	return nil
}
