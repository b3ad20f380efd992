// Package wcdl_test runs the wcdl command, built once as a process, against
// real servers on loopback.
package wcdl_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
	"github.com/wcdl/wcdl/interop/fositetest"
	"github.com/wcdl/wcdl/interop/wcdlbin"
)

// wcdl is the command built by TestMain.
var wcdl *wcdlbin.Binary

func TestMain(m *testing.M) { wcdlbin.Main(m, &wcdl) }

// Exit codes of wcdl (README: Output and exit codes).
const (
	exitOK   = 0
	exitAuth = 3
)

// writeManifest writes n distinct tile ids along the equator to a manifest
// and returns its path.
func writeManifest(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "N00E%03d\n", 3*i)
	}
	p := filepath.Join(t.TempDir(), "tiles.txt")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// summary is the part of wcdl's JSON report these tests read.
type summary struct {
	Downloaded    int   `json:"downloaded"`
	TokenRequests int64 `json:"token_requests"`
}

func readSummary(t *testing.T, path string) summary {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the report: %v", err)
	}
	var r struct {
		Summary summary `json:"summary"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, b)
	}
	return r.Summary
}

// TestRunAgainstFosite runs wcdl against fosite, a real OAuth2 server that
// is not Keycloak, found through --issuer: one login per run, the refresh
// token revoked at exit, and a wrong password sent exactly once (exit 3).
func TestRunAgainstFosite(t *testing.T) {
	idp := fositetest.NewServer(fositetest.Options{})
	t.Cleanup(idp.Close)
	ts := terrascopetest.NewServer(idp, terrascopetest.WithFileSize(256<<10))
	t.Cleanup(ts.Close)
	args := func(extra ...string) []string {
		return append([]string{"--issuer", idp.Issuer(), "--client-id", fositetest.Client, "--base-url", ts.URL(), "-w", "4", "--progress", "plain", "-o", t.TempDir()}, extra...)
	}

	t.Run("one login, revoked at exit", func(t *testing.T) {
		before := idp.Stats()
		env := map[string]string{"WCDL_USERNAME": fositetest.User, "WCDL_PASSWORD": fositetest.Password}
		rep := filepath.Join(t.TempDir(), "r.json")
		res := wcdl.Run(t.Context(), t, env, args("-m", writeManifest(t, 6), "--report", rep)...)
		if res.Code != exitOK {
			t.Fatalf("exit code %d, want 0; stderr:\n%s", res.Code, res.Stderr)
		}
		st := idp.Stats()
		if got := st.PasswordGrants - before.PasswordGrants; got != 1 {
			t.Errorf("password grants: got %d, want 1", got)
		}
		if got := st.Revocations - before.Revocations; got != 1 {
			t.Errorf("revocations at exit: got %d, want 1", got)
		}
		if s := readSummary(t, rep); s.Downloaded != 6 || s.TokenRequests != 1 {
			t.Errorf("summary %+v, want 6 downloaded with 1 token request", s)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		before := idp.Stats()
		env := map[string]string{"WCDL_USERNAME": fositetest.User, "WCDL_PASSWORD": "wrong-" + fositetest.Password}
		res := wcdl.Run(t.Context(), t, env, args("-m", writeManifest(t, 60))...)
		if res.Code != exitAuth {
			t.Fatalf("exit code %d, want %d; stderr:\n%s", res.Code, exitAuth, res.Stderr)
		}
		if got := idp.Stats().PasswordGrants - before.PasswordGrants; got != 1 {
			t.Errorf("password grants: got %d, want exactly 1", got)
		}
		if n := len(strings.Split(strings.TrimSpace(res.Stderr), "\n")); n > 3 || !strings.Contains(res.Stderr, `"invalid_grant"`) {
			t.Errorf("stderr: %d lines, want at most 3 quoting invalid_grant:\n%s", n, res.Stderr)
		}
		if strings.Contains(res.Stderr, fositetest.Password) {
			t.Error("stderr holds the password")
		}
	})
}
