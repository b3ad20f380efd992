package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unwritableDir returns a folder in which no file can be created by this
// process: a read-only temporary folder, or, for root, whom permission bits
// do not stop, /sys where the kernel refuses new files. It skips the test
// when it finds none.
func unwritableDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "read-only")
	if err := os.Mkdir(d, 0o555); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{d, "/sys"} {
		if f, err := os.CreateTemp(dir, "probe-*"); err == nil {
			f.Close()
			os.Remove(f.Name())
			continue
		}
		return dir
	}
	t.Skip("no folder this process cannot write in (running as root?)")
	return ""
}

// TestRunChecksBeforeAsking: mistakes in the output folder, the report's
// path or a manifest end the run with 2 and a message naming the path,
// before any login, and leave no output folder behind.
func TestRunChecksBeforeAsking(t *testing.T) {
	svc := newServices(t)
	base := t.TempDir()
	aFile := filepath.Join(base, "a-file")
	if err := os.WriteFile(aFile, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := writeManifest(t, "N00E006")
	tests := []struct {
		name   string
		out    string // "" for base/out
		extra  []string
		stderr []string
		ro     bool // out goes in a folder this process cannot write in
	}{
		{name: "a file in the output folder's place", out: aFile,
			stderr: []string{"output folder " + aFile + ": a file is in its place"}},
		{name: "a file in the way of the output folder", out: filepath.Join(aFile, "tiles"),
			stderr: []string{"output folder " + filepath.Join(aFile, "tiles") + ": " + aFile + " is a file, not a folder"}},
		{name: "an output folder that cannot be created", ro: true,
			stderr: []string{"output folder ", "/wcdl-tiles: cannot write in "}},
		{name: "a report in a missing folder", extra: []string{"--report", filepath.Join(base, "no-such-dir", "r.json")},
			stderr: []string{"--report " + filepath.Join(base, "no-such-dir", "r.json") + ": folder " + filepath.Join(base, "no-such-dir") + " does not exist"}},
		{name: "a report that is a folder", extra: []string{"--report", base},
			stderr: []string{"--report " + base + ": is a folder"}},
		{name: "an unreadable manifest", extra: []string{"-m", base},
			stderr: []string{base, "is a directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := tt.out
			switch {
			case tt.ro:
				out = filepath.Join(unwritableDir(t), "wcdl-tiles")
			case out == "":
				out = filepath.Join(t.TempDir(), "out")
			}
			if tt.ro {
				tt.extra = append(tt.extra, "--report", filepath.Join(unwritableDir(t), "r.json"))
			}
			before := svc.kc.Stats().Received
			args := append([]string{"-m", m, "-o", out}, tt.extra...)
			res := runWCDL(t, t.Context(), creds(), "", nil, svc.args(args...)...)
			if res.code != exitUsage {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitUsage, res.stderr)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
				}
			}
			if got := svc.kc.Stats().Received - before; got != 0 {
				t.Errorf("%d token requests, want none before the checks pass", got)
			}
			if tt.out == "" {
				if _, err := os.Stat(out); !os.IsNotExist(err) {
					t.Errorf("output folder %s after failed checks: %v, want none", out, err)
				}
			}
		})
	}
}

// TestRunReportInReadOnlyFolder: a report that cannot be written in its
// folder is found before the login.
func TestRunReportInReadOnlyFolder(t *testing.T) {
	svc := newServices(t)
	ro := unwritableDir(t)
	out := filepath.Join(t.TempDir(), "out")
	rep := filepath.Join(ro, "r.json")
	res := runWCDL(t, t.Context(), creds(), "", nil, svc.args("-m", writeManifest(t, "N00E006"), "-o", out, "--report", rep)...)
	if res.code != exitUsage {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitUsage, res.stderr)
	}
	if want := "--report " + rep + ": cannot write in " + ro; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
	}
	if st := svc.kc.Stats(); st.Received != 0 {
		t.Errorf("%d token requests, want none", st.Received)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output folder after failed checks: %v, want none", err)
	}
}
