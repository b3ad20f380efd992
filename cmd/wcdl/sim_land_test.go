package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// The built-in simulator has no file for ocean tiles, like the real
// service: a box over the south Pacific ends as missing, not downloaded.
func TestRunSimulateOceanIsMissing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tiles")
	rep := filepath.Join(t.TempDir(), "report.json")
	c := &command{
		getenv: func(string) string { return "" },
		stdin:  strings.NewReader("S15W048\n"),
		stdout: &syncBuffer{},
		stderr: &syncBuffer{},
	}
	// A box in one cell of the south Pacific (S30W132), and a tile of
	// Brazil (S15W048) from standard input.
	code := c.run(t.Context(), []string{"--simulate", "--simulate-rate", "0", "--bbox", "-131.5,-29.5,-131,-29", "-m", "-",
		"--year", "2021", "--layer", "Map", "-o", out, "--report", rep})
	if code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, c.stderr.(*syncBuffer).String())
	}
	r := readReport(t, rep)
	if r.Summary.Downloaded != 1 || r.Summary.Missing != 1 {
		t.Fatalf("summary %+v, want 1 downloaded (land) and 1 missing (ocean)", r.Summary)
	}
	for _, e := range r.Entries {
		want := "downloaded"
		if strings.Contains(e.Entry, "S30W132") {
			want = "missing"
		}
		if e.Status != want {
			t.Errorf("%s: status %s, want %s", e.Entry, e.Status, want)
		}
	}
}
