package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wcdl/wcdl/auth/keycloaktest"
)

// terminal returns the lines a terminal shows after out is written to it:
// a carriage return goes back to the start of the line, and what follows
// overwrites it.
func terminal(out string) []string {
	var lines []string
	var cur []rune
	col := 0
	for _, r := range out {
		switch r {
		case '\n':
			lines = append(lines, strings.TrimRight(string(cur), " "))
			cur, col = cur[:0], 0
		case '\r':
			col = 0
		default:
			if col < len(cur) {
				cur[col] = r
			} else {
				cur = append(cur, r)
			}
			col++
		}
	}
	if s := strings.TrimRight(string(cur), " "); s != "" {
		lines = append(lines, s)
	}
	return lines
}

// barLine matches what the bar draws: its file count, or the empty stub
// it drew before its first byte.
var barLine = regexp.MustCompile(`\d+/\d+ files\b|\( ?0 B\)`)

// TestBarGoneAfterRefusedLogin: a login refused before any byte leaves no
// bar, not even its empty stub, above the lines that say why.
func TestBarGoneAfterRefusedLogin(t *testing.T) {
	svc := newServices(t)
	wrong := map[string]string{"WCDL_USERNAME": testUser, "WCDL_PASSWORD": "wrong-" + testPassword}
	res := runWCDL(t, t.Context(), wrong, "", nil, svc.args("-m", writeManifest(t, tiles(8)...), "-o", t.TempDir(), "--progress", "bar")...)
	if res.code != exitAuth {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitAuth, res.stderr)
	}
	for _, l := range terminal(res.stderr) {
		if barLine.MatchString(l) {
			t.Errorf("the screen still shows the bar: %q; screen:\n%s", l, strings.Join(terminal(res.stderr), "\n"))
		}
	}
}

// TestBarKeepsOffLogLines: with -v, log lines written while the bar is on
// screen take a line of their own; the bar is drawn again below them.
func TestBarKeepsOffLogLines(t *testing.T) {
	const held = 64 << 10
	svc := newServices(t)
	svc.ts.Hold(held)
	stderr := &syncBuffer{}
	drawn := stderr.notifyOn("0/8 files")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		select {
		case <-drawn: // the bar is on screen: the next requests log below it
			svc.ts.Release()
		case <-ctx.Done():
		}
	}()
	res := runWCDL(t, ctx, creds(), "", stderr, svc.args("-v", "-m", writeManifest(t, tiles(8)...), "-o", t.TempDir(), "-w", "4", "--progress", "bar")...)
	if res.code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	screen := terminal(res.stderr)
	logs := 0
	for _, l := range screen {
		isLog := strings.Contains(l, "wcdl: ") || strings.Contains(l, "level=")
		if isLog && barLine.MatchString(l) {
			t.Errorf("a log line is glued to the bar: %q", l)
		}
		if strings.HasPrefix(l, "wcdl: ") && strings.Contains(l, "debug: performing request") {
			logs++
		}
	}
	if logs < 8 {
		t.Errorf("%d request lines on screen, want 8:\n%s", logs, strings.Join(screen, "\n"))
	}
}

// TestBarWaitsForLogin: while the login waits to retry a token endpoint
// that answered 503, the bar says so instead of standing at 0%.
func TestBarWaitsForLogin(t *testing.T) {
	svc := newServices(t)
	kc, err := url.Parse(svc.kc.TokenURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: kc.Scheme, Host: kc.Host})
	var refused atomic.Bool
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == kc.Path && refused.CompareAndSwap(false, true) {
			w.Header().Set("Retry-After", "30")
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer idp.Close()

	stderr := &syncBuffer{}
	shown := stderr.notifyOn("waiting for the login (1 attempt failed, next in 30s)")
	c := &command{
		getenv: func(k string) string { return creds()[k] }, stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: stderr,
		// The wait lasts until the bar has said it waits.
		authSleep: func(ctx context.Context, d time.Duration) error {
			select {
			case <-shown:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}
	args := []string{"--token-url", idp.URL + kc.Path, "--client-id", keycloaktest.DefaultClient, "--base-url", svc.ts.URL(),
		"-m", writeManifest(t, tiles(2)...), "-o", filepath.Join(t.TempDir(), "out"), "--progress", "bar"}
	// Without word of the wait the run would wait for ever: the deadline
	// turns that into a failure.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if code := c.run(ctx, args); code != exitOK {
		t.Fatalf("exit code %d, want 0 (130: the bar never said it waits for the login); stderr:\n%s", code, stderr.String())
	}
	for _, frame := range strings.Split(stderr.String(), "\r") {
		if strings.Contains(frame, "waiting for the login") && strings.Contains(frame, "%") {
			t.Errorf("the bar shows a percentage while it waits for the login: %q", frame)
		}
	}
}
