package main

import (
	"io"
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

// readWatch is a standard input that records whether anything read it.
type readWatch struct{ read bool }

func (r *readWatch) Read(p []byte) (int, error) {
	r.read = true
	return copy(p, "a-password\n"), io.EOF
}

// TestRunTokenURLCheckedBeforeAsking: a token URL that wcdl would refuse
// (plain http to another host, credentials in it, another scheme, not a
// URL at all) ends the run with 2 before the password is read, and the
// message shows no password from the URL.
func TestRunTokenURLCheckedBeforeAsking(t *testing.T) {
	svc := newServices(t)
	m := writeManifest(t, "N00E006")
	for _, bad := range []string{
		"http://sso.example.org/auth/realms/x/protocol/openid-connect/token",
		"https://u:hunter2@sso.example.org/auth/realms/x/protocol/openid-connect/token",
		"ftp://sso.example.org/token",
		"https://u:hunter2@[::1/token",
	} {
		t.Run(bad, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			stdin := &readWatch{}
			var stdout, stderr syncBuffer
			c := &command{
				getenv: func(k string) string { return map[string]string{"WCDL_USERNAME": testUser}[k] },
				stdin:  stdin,
				stdout: &stdout,
				stderr: &stderr,
			}
			code := c.run(t.Context(), []string{"--token-url", bad, "--base-url", svc.ts.URL(), "--password-file", "-", "-m", m, "-o", out})
			if code != exitUsage {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr.String())
			}
			if stdin.read {
				t.Errorf("the password was read before the token URL was refused")
			}
			if s := stderr.String(); !strings.Contains(s, "token URL") || strings.Contains(s, "hunter2") {
				t.Errorf("stderr does not name the token URL, or shows its password:\n%s", s)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output folder after failed checks: %v, want none", err)
			}
		})
	}
}
