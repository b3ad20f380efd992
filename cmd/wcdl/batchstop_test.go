package main

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tokenEndpoint is a token endpoint that gives every request the same
// answer and counts them.
type tokenEndpoint struct {
	*httptest.Server
	requests atomic.Int64
}

func newTokenEndpoint(t *testing.T, status int, header http.Header, body string) *tokenEndpoint {
	t.Helper()
	e := &tokenEndpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		e.requests.Add(1)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *tokenEndpoint) tokenURL() string { return e.URL + "/oauth2/token" }

// waits records the pauses between token requests, without pausing.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return ctx.Err()
}

func (w *waits) got() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// TestRunBatchWideFailures: a failure common to every file stops the batch
// with its exit code and a handful of lines, the report lists every entry,
// and the token endpoint is asked no more than the grant's attempt budget.
func TestRunBatchWideFailures(t *testing.T) {
	svc := newServices(t)
	const box = "-180,-60,180,84" // 5760 tiles
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String() + "/oauth2/token"
	}()
	html := newTokenEndpoint(t, 200, http.Header{"Content-Type": {"text/html"}}, "<html><body><form>Sign in</form></body></html>")
	busy := newTokenEndpoint(t, 503, http.Header{"Retry-After": {"30"}, "Content-Type": {"text/html"}}, "<html>maintenance</html>")
	denied := newTokenEndpoint(t, 400, http.Header{"Content-Type": {"application/json"}}, `{"error":"access_denied","error_description":"Invalid user credentials"}`)
	scope := newTokenEndpoint(t, 400, http.Header{"Content-Type": {"application/json"}}, `{"error":"invalid_request","error_description":"Missing parameter: scope"}`)
	untrusted := httptest.NewUnstartedServer(http.NotFoundHandler())
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0)
	untrusted.StartTLS()
	t.Cleanup(untrusted.Close)

	wrong := map[string]string{"WCDL_USERNAME": testUser, "WCDL_PASSWORD": "wrong-" + testPassword}
	noSuchHost := func(_ context.Context, _, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		dial       func(context.Context, string, string) (net.Conn, error)
		requests   func() int64 // token requests, counted by the server; nil: from the report
		wantCode   int
		wantTokens int64
		wantWaits  []time.Duration // nil: any, as many as wantTokens-1
		wantLine   string
	}{
		{"wrong password, Keycloak", wrong, svc.args(), nil, func() int64 { return svc.kc.Stats().TokenRequests() }, exitAuth, 1, nil, `"invalid_grant"`},
		{"wrong password, access_denied", wrong, []string{"--token-url", denied.tokenURL(), "--client-id", "c", "--base-url", svc.ts.URL()}, nil, denied.requests.Load, exitAuth, 1, nil, `"access_denied"`},
		{"provider asks for a scope", creds(), []string{"--token-url", scope.tokenURL(), "--client-id", "c", "--base-url", svc.ts.URL()}, nil, scope.requests.Load, exitAuth, 1, nil, "pass one with --scope"},
		{"dead token endpoint", creds(), []string{"--token-url", closed, "--client-id", "c", "--base-url", svc.ts.URL()}, nil, nil, exitAuth, 4, nil, "connection refused"},
		{"HTML token endpoint", creds(), []string{"--token-url", html.tokenURL(), "--client-id", "c", "--base-url", svc.ts.URL()}, nil, html.requests.Load, exitAuth, 1, nil, "not an OAuth2 token endpoint"},
		{"503 with Retry-After", creds(), []string{"--token-url", busy.tokenURL(), "--client-id", "c", "--base-url", svc.ts.URL()}, nil, busy.requests.Load, exitAuth, 4,
			[]time.Duration{30 * time.Second, 30 * time.Second, 30 * time.Second}, "503 Service Unavailable"},
		{"unresolvable download host", creds(), svc.args("--retries", "1"), noSuchHost, nil, exitUnreachable, 1, nil, "the name does not resolve"},
		{"untrusted certificate", creds(), append(svc.args(), "--base-url", untrusted.URL), nil, nil, exitUnreachable, 1, nil, "not trusted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			rep := filepath.Join(dir, "report.json")
			w := &waits{}
			stderr := &syncBuffer{}
			c := &command{getenv: func(k string) string { return tt.env[k] }, stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr, authSleep: w.sleep, dial: tt.dial}
			var before int64
			if tt.requests != nil {
				before = tt.requests()
			}
			code := c.run(t.Context(), append(tt.args, "--bbox", box, "-w", "8", "--progress", "plain", "--report", rep, "-o", filepath.Join(dir, "out")))
			out := stderr.String()
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, tailLines(out, 10))
			}
			r := readReport(t, rep)
			tokens := r.Summary.TokenRequests
			if tt.requests != nil {
				tokens = tt.requests() - before
			}
			if tokens != tt.wantTokens {
				t.Errorf("token requests: got %d, want %d", tokens, tt.wantTokens)
			}
			if got := w.got(); (tt.wantWaits == nil && int64(len(got)) != tt.wantTokens-1) || (tt.wantWaits != nil && !equalWaits(got, tt.wantWaits)) {
				t.Errorf("waits between token requests: got %v, want %v", got, tt.wantWaits)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) > 6 {
				t.Errorf("stderr has %d lines, want a handful:\n%s", len(lines), tailLines(out, 10))
			}
			if n := strings.Count(out, tt.wantLine); n != 1 {
				t.Errorf("stderr names %q %d times, want once:\n%s", tt.wantLine, n, out)
			}
			if r.Summary.Entries != 5760 || len(r.Entries) != 5760 || r.Summary.NotStarted < 5760-16 || r.Summary.Downloaded != 0 {
				t.Errorf("report: %d files, summary %+v; want 5760 entries, nearly all not started", len(r.Entries), r.Summary)
			}
			// A failed login reaches no file: every entry is not started.
			if tt.wantCode == exitAuth && (r.Summary.NotStarted != 5760 || r.Summary.Failed != 0) {
				t.Errorf("report summary %+v; want all 5760 not started after a failed login", r.Summary)
			}
			t.Logf("%s: exit %d, %d token requests, %d stderr lines", tt.name, code, tokens, len(lines))
		})
	}
}

func equalWaits(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
