package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/auth/fositetest"
	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// TestRunAgainstFosite runs wcdl against fosite, a real OAuth2 server that
// is not Keycloak, found through --issuer: one login per run, the refresh
// token revoked at exit, and a wrong password sent exactly once (exit 3).
func TestRunAgainstFosite(t *testing.T) {
	idp := fositetest.NewServer(fositetest.Options{})
	t.Cleanup(idp.Close)
	ts := terrascopetest.NewServer(idp, terrascopetest.WithFileSize(fileSize))
	t.Cleanup(ts.Close)
	args := func(extra ...string) []string {
		return append([]string{"--issuer", idp.Issuer(), "--client-id", fositetest.Client, "--base-url", ts.URL(), "-w", "4", "--progress", "plain", "-o", t.TempDir()}, extra...)
	}

	t.Run("one login, revoked at exit", func(t *testing.T) {
		before := idp.Stats()
		env := map[string]string{"WCDL_USERNAME": fositetest.User, "WCDL_PASSWORD": fositetest.Password}
		rep := filepath.Join(t.TempDir(), "r.json")
		res := runWCDL(t, t.Context(), env, "", nil, args("-m", writeManifest(t, tiles(6)...), "--report", rep)...)
		if res.code != exitOK {
			t.Fatalf("exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
		}
		st := idp.Stats()
		if got := st.PasswordGrants - before.PasswordGrants; got != 1 {
			t.Errorf("password grants: got %d, want 1", got)
		}
		if got := st.Revocations - before.Revocations; got != 1 {
			t.Errorf("revocations at exit: got %d, want 1", got)
		}
		if r := readReport(t, rep); r.Summary.Downloaded != 6 || r.Summary.TokenRequests != 1 {
			t.Errorf("summary %+v, want 6 downloaded with 1 token request", r.Summary)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		before := idp.Stats()
		env := map[string]string{"WCDL_USERNAME": fositetest.User, "WCDL_PASSWORD": "wrong-" + fositetest.Password}
		res := runWCDL(t, t.Context(), env, "", nil, args("-m", writeManifest(t, tiles(60)...))...)
		if res.code != exitAuth {
			t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitAuth, res.stderr)
		}
		if got := idp.Stats().PasswordGrants - before.PasswordGrants; got != 1 {
			t.Errorf("password grants: got %d, want exactly 1", got)
		}
		if n := len(strings.Split(strings.TrimSpace(res.stderr), "\n")); n > 3 || !strings.Contains(res.stderr, `"invalid_grant"`) {
			t.Errorf("stderr: %d lines, want at most 3 quoting invalid_grant:\n%s", n, res.stderr)
		}
		if strings.Contains(res.stderr, fositetest.Password) {
			t.Error("stderr holds the password")
		}
	})
}
