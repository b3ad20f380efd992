package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// headerServer records a header of every request and answers 200 when it
// holds one of the accepted values, else 401.
type headerServer struct {
	*httptest.Server
	mu     sync.Mutex
	header string
	seen   []string
	accept map[string]bool
}

func newHeaderServer(t *testing.T, header string, accept ...string) *headerServer {
	s := &headerServer{header: header, accept: map[string]bool{}}
	for _, a := range accept {
		s.accept[a] = true
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.Header.Get(s.header)
		s.mu.Lock()
		s.seen = append(s.seen, v)
		ok := s.accept[v]
		s.mu.Unlock()
		if !ok {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *headerServer) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func (s *headerServer) setAccept(v ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accept = map[string]bool{}
	for _, a := range v {
		s.accept[a] = true
	}
}

// TestStaticTokenRefusalIsFinal: a ready-made token is sent once; a
// refusal ends the run (ErrCredentialRefused, ErrLoginFailed) without a
// replay, and the error never quotes the token.
func TestStaticTokenRefusalIsFinal(t *testing.T) {
	const tok = "static-token-5e1f-never-print"
	srv := newHeaderServer(t, "Authorization")
	src, err := NewStaticToken(tok, "the token from WCDL_TOKEN")
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &Transport{Source: src, Trusted: []string{srv.Listener.Addr().String()}}}
	_, err = c.Get(srv.URL + "/f.tif")
	if !errors.Is(err, ErrCredentialRefused) || !errors.Is(err, ErrLoginFailed) {
		t.Errorf("got %v, want ErrCredentialRefused and ErrLoginFailed", err)
	}
	if err != nil && (strings.Contains(err.Error(), tok) || !strings.Contains(err.Error(), "WCDL_TOKEN")) {
		t.Errorf("error %q: want it to name WCDL_TOKEN, never the token", err)
	}
	if got := srv.got(); len(got) != 1 || got[0] != "Bearer "+tok {
		t.Errorf("requests: got %q, want one with the token", got)
	}
	for _, bad := range []string{"", "a\nb"} {
		if _, err := NewStaticToken(bad, "the token from WCDL_TOKEN"); err == nil {
			t.Errorf("NewStaticToken(%q): no error", bad)
		}
	}
}

// TestAPIKeyHeaderOnlyToTrustedHosts: an API key goes in its own header,
// without Authorization, to trusted hosts only, and not along a redirect
// to a foreign host.
func TestAPIKeyHeaderOnlyToTrustedHosts(t *testing.T) {
	const key = "api-key-9a7c-never-print"
	foreign := newHeaderServer(t, "MAXAR-API-KEY")
	trusted := newHeaderServer(t, "MAXAR-API-KEY", key)
	var auths []string
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auths = append(auths, r.Header.Get("Authorization"))
		http.Redirect(w, r, foreign.URL+"/elsewhere", http.StatusFound)
	}))
	defer redirect.Close()
	src, err := NewStaticToken(key, "the key from WCDL_API_KEY")
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &Transport{Source: src, Header: "MAXAR-API-KEY",
		Trusted: []string{trusted.Listener.Addr().String(), redirect.Listener.Addr().String()}}}
	if code, _, err := get(t, c, trusted.URL+"/f.tif"); err != nil || code != http.StatusOK {
		t.Fatalf("trusted host: got %d %v, want 200", code, err)
	}
	_, _, _ = get(t, c, foreign.URL+"/f.tif")
	_, _, _ = get(t, c, redirect.URL+"/f.tif")
	if got := trusted.got(); len(got) != 1 || got[0] != key {
		t.Errorf("trusted host got %q, want the key once", got)
	}
	for _, v := range foreign.got() {
		if v != "" {
			t.Errorf("foreign host got the key header %q", v)
		}
	}
	if n := len(foreign.got()); n != 2 {
		t.Errorf("foreign host: got %d requests, want 2 (direct and redirected)", n)
	}
	if len(auths) != 1 || auths[0] != "" {
		t.Errorf("an API key must not be sent as Authorization: got %q", auths)
	}
}

// writeToken replaces path's content the way Kubernetes rotates projected
// tokens: a new file renamed over the old one.
func writeToken(t *testing.T, path, tok string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestTokenFileRotation: a token file is read again when it changes, and
// once more when the service refuses its token.
func TestTokenFileRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	writeToken(t, path, "token-A")
	var reads []string
	f, err := NewTokenFile(path, func(tok string) { reads = append(reads, tok) })
	if err != nil {
		t.Fatal(err)
	}
	srv := newHeaderServer(t, "Authorization", "Bearer token-A")
	c := &http.Client{Transport: &Transport{Source: f, Trusted: []string{srv.Listener.Addr().String()}}}
	mustGet := func(step string) {
		t.Helper()
		if code, _, err := get(t, c, srv.URL+"/f.tif"); err != nil || code != http.StatusOK {
			t.Fatalf("%s: got %d %v, want 200", step, code, err)
		}
	}
	mustGet("first token")

	// Rotated by rename: the next request carries the new token.
	srv.setAccept("Bearer token-B")
	writeToken(t, path, "token-B")
	mustGet("after a rotation")

	// Rewritten in place with the same size and modification time: only
	// the refusal of the old token makes wcdl read the file again.
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("token-C\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	srv.setAccept("Bearer token-C")
	mustGet("after an unnoticed rewrite")

	want := []string{"Bearer token-A", "Bearer token-B", "Bearer token-B", "Bearer token-C"}
	if got := srv.got(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	if fmt.Sprint(reads) != "[token-A token-B token-C]" {
		t.Errorf("onRead saw %q, want each token once", reads)
	}

	// A refused token the file still holds ends the run.
	srv.setAccept()
	_, _, err = get(t, c, srv.URL+"/f.tif")
	if !errors.Is(err, ErrCredentialRefused) || !errors.Is(err, ErrLoginFailed) || strings.Contains(err.Error(), "token-C") {
		t.Errorf("got %v, want ErrCredentialRefused without the token", err)
	}
}

// jwt returns an unsigned JWT whose payload is claims.
func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(claims)) + ".c2lnbmF0dXJl"
}

func TestExpiryWarning(t *testing.T) {
	now := t0
	tests := []struct {
		name, tok, want string
	}{
		{"expires soon", jwt(fmt.Sprintf(`{"sub":"x","exp":%d}`, now.Add(5*time.Minute).Unix())), "expires at 2026-11-22T20:05:00Z, in 5m0s"},
		{"expired", jwt(fmt.Sprintf(`{"exp":%d}`, now.Add(-time.Hour).Unix())), "expired at 2026-11-22T19:00:00Z (1h0m0s ago)"},
		{"far", jwt(fmt.Sprintf(`{"exp":%d}`, now.Add(3*time.Hour).Unix())), ""},
		{"no exp", jwt(`{"sub":"x"}`), ""},
		{"not a JWT", "opaque-token", ""},
		{"bad payload", "a.!!!.c", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ExpiryWarning(tt.tok, "the token from WCDL_TOKEN", now, 15*time.Minute)
			if !strings.Contains(got, tt.want) || (tt.want == "") != (got == "") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if got != "" && strings.Contains(got, tt.tok) {
				t.Errorf("the warning quotes the token")
			}
		})
	}
}
