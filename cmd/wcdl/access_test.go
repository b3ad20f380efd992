package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// acceptTokens is the download service's idea of valid tokens: a set the
// test changes, and every token it was shown, in order. Its hook, if set,
// runs on each check before the answer.
type acceptTokens struct {
	mu     sync.Mutex
	accept map[string]bool
	seen   []string
	hook   func(n int)
}

func newAcceptTokens(valid ...string) *acceptTokens {
	a := &acceptTokens{}
	a.set(valid...)
	return a
}

func (a *acceptTokens) set(valid ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.accept = map[string]bool{}
	for _, v := range valid {
		a.accept[v] = true
	}
}

func (a *acceptTokens) Valid(tok string) bool {
	a.mu.Lock()
	a.seen = append(a.seen, tok)
	n, hook := len(a.seen), a.hook
	a.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.accept[tok]
}

func (a *acceptTokens) RevokeAccess() { a.set() }

func (a *acceptTokens) all() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

// testJWT returns an unsigned JWT that expires at exp.
func testJWT(exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(fmt.Sprintf(`{"sub":"ci","exp":%d}`, exp.Unix()))) + ".bm90LXZlcmlmaWVk"
}

// readyRun is a download service that takes ready-made tokens, and a token
// endpoint that no run may call.
type readyRun struct {
	ts     *terrascopetest.Server
	tokens *acceptTokens
	login  *tokenEndpoint
}

func newReadyRun(t *testing.T, valid ...string) *readyRun {
	t.Helper()
	tokens := newAcceptTokens(valid...)
	ts := terrascopetest.NewServer(tokens, terrascopetest.WithFileSize(fileSize))
	t.Cleanup(ts.Close)
	return &readyRun{ts: ts, tokens: tokens, login: newTokenEndpoint(t, http.StatusInternalServerError, nil, "")}
}

func (r *readyRun) args(extra ...string) []string {
	return append([]string{"--token-url", r.login.tokenURL(), "--base-url", r.ts.URL()}, extra...)
}

// TestReadyTokenNoLogin: WCDL_TOKEN and --token-file need no login: no
// request reaches the token endpoint, every file comes with the token, and
// a JWT near its expiry is warned about without being printed.
func TestReadyTokenNoLogin(t *testing.T) {
	near := testJWT(time.Now().Add(5 * time.Minute))
	far := testJWT(time.Now().Add(24 * time.Hour))
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(near+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		env      map[string]string
		extra    []string
		tok      string
		wantWarn string
	}{
		{"WCDL_TOKEN", map[string]string{"WCDL_TOKEN": far}, nil, far, ""},
		{"WCDL_TOKEN near expiry", map[string]string{"WCDL_TOKEN": near}, nil, near, "the token from WCDL_TOKEN expires at"},
		{"--token-file near expiry", nil, []string{"--token-file", tokenFile}, near, "the token in " + tokenFile + " expires at"},
		{"WCDL_TOKEN_FILE", map[string]string{"WCDL_TOKEN_FILE": tokenFile}, nil, near, "expires at"},
		{"opaque token", map[string]string{"WCDL_TOKEN": "opaque-ci-token-31d7"}, nil, "opaque-ci-token-31d7", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReadyRun(t, tt.tok)
			out := filepath.Join(t.TempDir(), "out")
			rep := filepath.Join(t.TempDir(), "report.json")
			m := writeManifest(t, tiles(4)...)
			res := runWCDL(t, t.Context(), tt.env, "", nil, r.args(append(tt.extra, "-m", m, "-o", out, "--report", rep, "-v")...)...)
			if res.code != exitOK {
				t.Fatalf("exit %d, want 0; stderr:\n%s", res.code, res.stderr)
			}
			assertComplete(t, r.ts, out, readReport(t, rep))
			if n := r.login.requests.Load(); n != 0 {
				t.Errorf("token endpoint: got %d requests, want none", n)
			}
			for _, s := range r.tokens.all() {
				if s != tt.tok {
					t.Errorf("the service was shown %q, want only the given token", s)
				}
			}
			if got := strings.Contains(res.stderr, "warning"); got != (tt.wantWarn != "") || !strings.Contains(res.stderr, tt.wantWarn) {
				t.Errorf("stderr:\n%s\nwant a warning with %q: %v", res.stderr, tt.wantWarn, tt.wantWarn != "")
			}
			b, _ := os.ReadFile(rep)
			for _, o := range []string{res.stdout, res.stderr, string(b)} {
				if strings.Contains(o, tt.tok) {
					t.Errorf("the token appears in the output")
				}
			}
		})
	}
}

// TestReadyTokenRefusedStopsOnce: a refused ready-made token ends the run
// with exit 3 at once, said in one line, not once per file.
func TestReadyTokenRefusedStopsOnce(t *testing.T) {
	const tok = "refused-ready-token-88aa"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		env   map[string]string
		extra []string
		what  string
	}{
		{"WCDL_TOKEN", map[string]string{"WCDL_TOKEN": tok}, nil, "the token from WCDL_TOKEN"},
		{"--token-file", nil, []string{"--token-file", tokenFile}, "the token in " + tokenFile},
		{"API key", map[string]string{"WCDL_API_KEY": tok}, []string{"--api-key-header", "X-Api-Key"}, "the API key from WCDL_API_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReadyRun(t) // accepts nothing
			m := writeManifest(t, tiles(12)...)
			res := runWCDL(t, t.Context(), tt.env, "", nil, r.args(append(tt.extra, "-m", m, "-o", t.TempDir(), "-w", "2", "--progress", "plain")...)...)
			if res.code != exitAuth {
				t.Fatalf("exit %d, want %d; stderr:\n%s", res.code, exitAuth, res.stderr)
			}
			want := "the service refused " + tt.what + "; wcdl cannot renew it: give a new one"
			if n := strings.Count(res.stderr, "refused"); n != 1 || !strings.Contains(res.stderr, want) {
				t.Errorf("stderr says %q %d times, want once:\n%s", want, n, res.stderr)
			}
			if n := r.ts.Stats().Requests; n > 2 {
				t.Errorf("the service got %d requests, want at most one per worker (2)", n)
			}
			if strings.Contains(res.stderr, tok) {
				t.Errorf("the token appears in stderr")
			}
		})
	}
}

// TestTokenFileRotatedMidRun: a token file replaced during a run is picked
// up by the next request, without a refusal.
func TestTokenFileRotatedMidRun(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("token-A\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newReadyRun(t, "token-A")
	rotated := make(chan struct{})
	r.tokens.hook = func(n int) {
		if n != 1 {
			return
		}
		// The first request has token-A: rotate the file as Kubernetes
		// does (a new file renamed over it) before the service answers.
		tmp := tokenFile + ".new"
		if err := os.WriteFile(tmp, []byte("token-B\n"), 0o600); err != nil {
			t.Error(err)
		}
		if err := os.Rename(tmp, tokenFile); err != nil {
			t.Error(err)
		}
		r.tokens.set("token-A", "token-B")
		close(rotated)
	}
	m := writeManifest(t, tiles(3)...)
	out := filepath.Join(t.TempDir(), "out")
	rep := filepath.Join(t.TempDir(), "report.json")
	res := runWCDL(t, t.Context(), nil, "", nil, r.args("--token-file", tokenFile, "-w", "1", "-m", m, "-o", out, "--report", rep)...)
	<-rotated
	if res.code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	assertComplete(t, r.ts, out, readReport(t, rep))
	if got, want := strings.Join(r.tokens.all(), " "), "token-A token-B token-B"; got != want {
		t.Errorf("the service was shown %q, want %q", got, want)
	}
}

// TestReadyCredentialNeverLeavesTrustedHosts: a ready-made token or API
// key goes to the download host only, never to another host named by a
// manifest URL.
func TestReadyCredentialNeverLeavesTrustedHosts(t *testing.T) {
	const secret = "ready-secret-4c2e"
	var mu sync.Mutex
	var foreignHeaders []http.Header
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		foreignHeaders = append(foreignHeaders, req.Header.Clone())
		mu.Unlock()
		http.NotFound(w, req)
	}))
	defer foreign.Close()
	tests := []struct {
		name   string
		env    map[string]string
		extra  []string
		header string
	}{
		{"WCDL_TOKEN", map[string]string{"WCDL_TOKEN": secret}, nil, "Authorization"},
		{"API key", map[string]string{"WCDL_API_KEY": secret}, []string{"--api-key-header", "MAXAR-API-KEY"}, "MAXAR-API-KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			foreignHeaders = nil
			mu.Unlock()
			svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				v := req.Header.Get(tt.header)
				if v != secret && v != "Bearer "+secret {
					http.Error(w, "unauthorized", http.StatusUnauthorized)
					return
				}
				w.Header().Set("Content-Length", "4")
				_, _ = w.Write([]byte("tile"))
			}))
			defer svc.Close()
			m := writeManifest(t, svc.URL+"/a.txt", foreign.URL+"/b.txt")
			res := runWCDL(t, t.Context(), tt.env, "", nil, append(tt.extra, "--base-url", svc.URL, "-m", m, "-o", t.TempDir(), "--retries", "1")...)
			if res.code != exitFailed || !strings.Contains(res.stderr, "1 downloaded") {
				t.Errorf("exit %d, want %d with the trusted file downloaded; stderr:\n%s", res.code, exitFailed, res.stderr)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(foreignHeaders) == 0 {
				t.Fatal("the foreign host got no request")
			}
			for _, h := range foreignHeaders {
				for k, vs := range h {
					for _, v := range vs {
						if strings.Contains(v, secret) {
							t.Errorf("the foreign host got the secret in %s", k)
						}
					}
				}
			}
		})
	}
}

// TestReadyCredentialUsage: contradictory credential settings are usage
// errors that name what to fix.
func TestReadyCredentialUsage(t *testing.T) {
	r := newReadyRun(t)
	m := writeManifest(t, tiles(1)...)
	tests := []struct {
		name  string
		env   map[string]string
		extra []string
		want  string
	}{
		{"key without header", map[string]string{"WCDL_API_KEY": "k"}, nil, "needs both --api-key-header NAME and WCDL_API_KEY"},
		{"header without key", nil, []string{"--api-key-header", "X-Key"}, "needs both --api-key-header NAME and WCDL_API_KEY"},
		{"bad header name", map[string]string{"WCDL_API_KEY": "k"}, []string{"--api-key-header", "X Key:"}, "is not an HTTP header name"},
		{"token and file", map[string]string{"WCDL_TOKEN": "t"}, []string{"--token-file", m}, "give one bearer token"},
		{"missing token file", nil, []string{"--token-file", filepath.Join(t.TempDir(), "none")}, "token file"},
		{"SAS and token", map[string]string{"WCDL_TOKEN": "t"}, []string{"--provider", "pc"}, "needs no --token-file"},
		{"token for pc only", map[string]string{"WCDL_TOKEN": "t"}, []string{"--source", "pc"}, "WCDL_TOKEN would reach no host: no source in --source pc takes a bearer token"},
		{"token file for pc only", nil, []string{"--source", "pc", "--token-file", m}, "--token-file would reach no host"},
		{"--no-auth and a token file", nil, []string{"--no-auth", "--token-file", m}, "--no-auth sends no credential, so --token-file would be ignored"},
		{"--no-auth and an API key", map[string]string{"WCDL_API_KEY": "k"}, []string{"--no-auth", "--api-key-header", "X-Key"}, "so --api-key-header would be ignored"},
		{"--no-auth and a password file", nil, []string{"--no-auth", "--password-file", m}, "so --password-file would be ignored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runWCDL(t, t.Context(), tt.env, "", nil, r.args(append(tt.extra, "-m", m, "-o", t.TempDir())...)...)
			if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q; stderr:\n%s", res.code, exitUsage, tt.want, res.stderr)
			}
		})
	}
}
