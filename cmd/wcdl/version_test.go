package main

import (
	"runtime"
	"testing"
)

// TestVersion: --version prints the stamped (or module) version, the Go
// version and the platform on one line, and nothing else, with no input.
func TestVersion(t *testing.T) {
	t.Parallel()
	res := runWCDL(t, t.Context(), nil, "", nil, "--version")
	want := "wcdl " + buildVersion() + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if res.code != exitOK || res.stdout != want || res.stderr != "" {
		t.Errorf("got exit %d, stdout %q, stderr %q; want 0, %q and nothing", res.code, res.stdout, res.stderr, want)
	}
}
