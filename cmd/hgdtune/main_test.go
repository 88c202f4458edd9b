package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: hgdtune"},
		{[]string{"help"}, 0, "commands:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"data", "-nosuchflag"}, 2, "flag provided but not defined"},
		{[]string{"data", "extra"}, 2, "unexpected arguments"},
		{[]string{"data", "-h"}, 0, "usage: hgdtune data"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runCmd(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if !strings.Contains(out+errOut, tc.want) {
				t.Errorf("output lacks %q:\n%s%s", tc.want, out, errOut)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "")
	t.Setenv("HGDTUNE_PJRT_PLUGIN", "")
	code, out, errOut := runCmd(t, "env")
	if code != 0 || !strings.Contains(out, "backend:   go (") {
		t.Fatalf("code %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCmd(t, "env", "-backend", "nosuch")
	if code != 1 || !strings.Contains(errOut, `unknown backend "nosuch"`) {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
}

// A missing data set with downloading off is a clear error, not a panic.
func TestDataMissing(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCmd(t, "data", "-data", dir, "-cache", filepath.Join(dir, "cache"), "-download=false")
	if code != 1 || !strings.Contains(errOut, "not found") {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	code, _, errOut = runCmd(t, "data", "-dataset", "mnist", "-data", dir, "-download=false")
	if code != 1 || !strings.Contains(errOut, `unknown -dataset "mnist"`) {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
}

func TestDataReal(t *testing.T) {
	dir := os.Getenv("HGDTUNE_DATA")
	if dir == "" {
		t.Skip("set HGDTUNE_DATA=/path/to/data (the folder holding cifar-10-batches-bin) to run")
	}
	code, out, errOut := runCmd(t, "data", "-data", dir, "-cache", t.TempDir(), "-download=false")
	if code != 0 {
		t.Fatalf("code %d\n%s", code, errOut)
	}
	for _, want := range []string{
		"CIFAR-10 train: 50000 images, 10 classes",
		"MD5 5dd7e06a14cb22eb9f671a540d1b7c25 ok",
		"train: 35000 of 50000",
		"validation: 15000 of 50000",
		"mean [0.49",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
