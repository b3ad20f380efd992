package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wcdl/wcdl/auth/keycloaktest"
	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

const (
	testUser     = "alice@example.org"
	testPassword = "pw-Zq8!tiles-correct-horse"
	fileSize     = 256 << 10
)

// services is a fake Keycloak and download service for one test, with a
// record of every access token the download service was shown.
type services struct {
	kc     *keycloaktest.Server
	ts     *terrascopetest.Server
	tokens *seenTokens
}

func newServices(t *testing.T, opts ...terrascopetest.Option) *services {
	t.Helper()
	kc := keycloaktest.NewServer(keycloaktest.WithUser(testUser, testPassword))
	t.Cleanup(kc.Close)
	seen := &seenTokens{Tokens: kc}
	ts := terrascopetest.NewServer(seen, append([]terrascopetest.Option{terrascopetest.WithFileSize(fileSize)}, opts...)...)
	t.Cleanup(ts.Close)
	return &services{kc: kc, ts: ts, tokens: seen}
}

// seenTokens records the bearer tokens the download service checks, so tests
// can make sure none of them leaks into wcdl's output.
type seenTokens struct {
	terrascopetest.Tokens
	mu   sync.Mutex
	seen []string
}

func (s *seenTokens) Valid(tok string) bool {
	s.mu.Lock()
	s.seen = append(s.seen, tok)
	s.mu.Unlock()
	return s.Tokens.Valid(tok)
}

func (s *seenTokens) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

// args are the flags that point wcdl at the fakes.
func (s *services) args(extra ...string) []string {
	return append([]string{"--token-url", s.kc.TokenURL(), "--client-id", keycloaktest.DefaultClient, "--base-url", s.ts.URL()}, extra...)
}

// result is what one in-process run of wcdl produced.
type result struct {
	code           int
	stdout, stderr string
}

// runWCDL runs the command in-process with env as its whole environment.
func runWCDL(t *testing.T, ctx context.Context, env map[string]string, stdin string, stderr *syncBuffer, args ...string) result {
	t.Helper()
	if stderr == nil {
		stderr = &syncBuffer{}
	}
	var stdout bytes.Buffer
	c := &command{
		getenv: func(k string) string { return env[k] },
		environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			return kv
		},
		stdin:  strings.NewReader(stdin),
		stdout: &stdout,
		stderr: stderr,
	}
	code := c.run(ctx, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// creds is an environment with the test account's credentials.
func creds() map[string]string {
	return map[string]string{"WCDL_USERNAME": testUser, "WCDL_PASSWORD": testPassword}
}

// writeManifest writes lines to a manifest file and returns its path.
func writeManifest(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tiles.txt")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tiles returns n distinct tile ids along the equator.
func tiles(n int) []string {
	var ids []string
	for i := range n {
		ids = append(ids, tileID(0, i*3))
	}
	return ids
}

func tileID(lat, lon int) string {
	ns, ew := 'N', 'E'
	if lat < 0 {
		ns, lat = 'S', -lat
	}
	if lon < 0 {
		ew, lon = 'W', -lon
	}
	return fmt.Sprintf("%c%02d%c%03d", ns, lat, ew, lon)
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// assertComplete checks that dir holds exactly the files of rep, each
// byte-identical to what ts serves, and nothing else.
func assertComplete(t *testing.T, ts *terrascopetest.Server, dir string, rep *report) {
	t.Helper()
	want := map[string]bool{}
	for _, e := range rep.Entries {
		if e.Status != "downloaded" && e.Status != "skipped" {
			t.Errorf("entry %s: status %q (%s), want downloaded or skipped", e.Entry, e.Status, e.Error)
			continue
		}
		name := filepath.Base(e.Path)
		want[name] = true
		if got, wantSum := fileSHA256(t, filepath.Join(dir, name)), ts.SHA256(e.URL); got != wantSum {
			t.Errorf("%s: sha256 %s, want %s as served", name, got, wantSum)
		}
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if !want[de.Name()] {
			t.Errorf("unexpected file %s left in the output folder", de.Name())
		}
	}
}

func readReport(t *testing.T, path string) *report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the report: %v", err)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, b)
	}
	return &r
}

// assertNoSecrets fails if the password or any token the service was shown
// appears in any of outputs.
func assertNoSecrets(t *testing.T, svc *services, outputs ...string) {
	t.Helper()
	secrets := append([]string{testPassword}, svc.tokens.all()...)
	for _, out := range outputs {
		for _, s := range secrets {
			if s != "" && strings.Contains(out, s) {
				t.Errorf("a secret (%d characters) appears in the output", len(s))
			}
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of workers
// and progress, that can tell a waiting test when a line appears.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	substr string
	found  chan struct{}
}

// notifyOn returns a channel closed once substr has been written.
func (b *syncBuffer) notifyOn(substr string) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.substr, b.found = substr, make(chan struct{})
	return b.found
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.found != nil && strings.Contains(b.buf.String(), b.substr) {
		close(b.found)
		b.found = nil
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
