package auth

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scripted is a token endpoint whose answers a test writes per grant type,
// counting the requests of each.
type scripted struct {
	mu       sync.Mutex
	requests map[string]int // by grant_type
	answer   func(grant string, n int) (status int, header http.Header, body string)
	srv      *httptest.Server
}

func newScripted(t *testing.T, answer func(grant string, n int) (int, http.Header, string)) *scripted {
	t.Helper()
	s := &scripted{requests: map[string]int{}, answer: answer}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		g := r.PostForm.Get("grant_type")
		s.mu.Lock()
		s.requests[g]++
		n := s.requests[g]
		s.mu.Unlock()
		status, h, body := s.answer(g, n)
		for k, v := range h {
			w.Header()[k] = v
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *scripted) tokenURL() string { return s.srv.URL + "/oauth2/token" }

func (s *scripted) count(grant string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[grant]
}

// sleeps records the waits a Provider asks for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func jsonError(status int, code, desc string) func(string, int) (int, http.Header, string) {
	return func(string, int) (int, http.Header, string) {
		return status, nil, `{"error":"` + code + `","error_description":"` + desc + `"}`
	}
}

// TestPasswordGrantFailuresAreFinal: whatever a provider answers a password
// grant with, short of 5xx, 429 or a network error, the run makes exactly
// one password grant, and every caller, then and later, gets an error that
// stops the batch.
func TestPasswordGrantFailuresAreFinal(t *testing.T) {
	html := func(status int) func(string, int) (int, http.Header, string) {
		return func(string, int) (int, http.Header, string) {
			return status, http.Header{"Content-Type": {"text/html"}}, "<html><body>Sign in to continue</body></html>"
		}
	}
	tests := []struct {
		name    string
		answer  func(string, int) (int, http.Header, string)
		is      []error
		wantMsg []string
	}{
		{"access_denied", jsonError(400, "access_denied", "Invalid user credentials"), []error{ErrBadCredentials}, []string{`"access_denied"`, "check the username and password"}},
		{"invalid_grant", jsonError(401, "invalid_grant", "Invalid user credentials"), []error{ErrBadCredentials}, []string{`"invalid_grant"`}},
		{"invalid_client", jsonError(401, "invalid_client", "Invalid client credentials"), []error{ErrBadCredentials}, []string{"--client-id"}},
		{"unauthorized_client", jsonError(400, "unauthorized_client", "Client not allowed for direct access grants"), []error{ErrBadCredentials}, []string{"--client-id"}},
		{"unsupported_grant_type", jsonError(400, "unsupported_grant_type", "password grant disabled"), nil, []string{"does not allow the password grant"}},
		{"invalid_request asking for a scope", jsonError(400, "invalid_request", "Missing parameter: scope"), nil, []string{`"invalid_request"`, "--scope"}},
		{"invalid_scope", jsonError(400, "invalid_scope", "The requested scope is invalid"), nil, []string{`"invalid_scope"`, "--scope openid"}},
		{"unknown code", jsonError(403, "no_such_error_code", "something else"), nil, []string{`"no_such_error_code"`, "check the username"}},
		{"HTML login page 200", html(200), []error{ErrNotTokenEndpoint}, []string{"not an OAuth2 token endpoint", "--token-url"}},
		{"HTML 404 page", html(404), []error{ErrNotTokenEndpoint}, []string{"not an OAuth2 token endpoint"}},
		{"JSON without a token", func(string, int) (int, http.Header, string) { return 200, nil, `{"hello":"world"}` }, []error{ErrNotTokenEndpoint}, []string{"no access_token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScripted(t, tt.answer)
			sl := &sleeps{}
			p, err := NewProvider(Config{TokenURL: s.tokenURL(), ClientID: "c", Credentials: Credentials{Username: testUser, Password: testPassword}, Sleep: sl.sleep})
			if err != nil {
				t.Fatal(err)
			}
			errs := run(16, func(int) error { _, err := p.Token(context.Background()); return err })
			_, err = p.Refused(context.Background(), "some-token")
			errs = append(errs, err)
			_, err = p.Token(context.Background())
			errs = append(errs, err)
			if got := s.count("password"); got != 1 {
				t.Errorf("password grants: got %d, want exactly 1", got)
			}
			if got := sl.got(); len(got) != 0 {
				t.Errorf("waits: got %v, want none (nothing is retried)", got)
			}
			for i, err := range errs {
				if !errors.Is(err, ErrLoginFailed) {
					t.Errorf("caller %d: got %v, want an error matching ErrLoginFailed", i, err)
					continue
				}
				for _, want := range tt.is {
					if !errors.Is(err, want) {
						t.Errorf("caller %d: got %v, want it to match %v", i, err, want)
					}
				}
				for _, want := range tt.wantMsg {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("caller %d: got %q, want it to contain %q", i, err, want)
					}
				}
				if strings.Contains(err.Error(), testPassword) {
					t.Errorf("caller %d: error holds the password", i)
				}
			}
		})
	}
}

// TestUnavailableEndpoint: 5xx, 429 and network errors are retried inside
// the one shared renewal, waiting as Retry-After asks up to MaxWait; when the
// attempts are spent, no further token request is made.
func TestUnavailableEndpoint(t *testing.T) {
	retryAfter := func(status int, after string) func(string, int) (int, http.Header, string) {
		return func(string, int) (int, http.Header, string) {
			return status, http.Header{"Retry-After": {after}, "Content-Type": {"text/html"}}, "<html>busy</html>"
		}
	}
	tests := []struct {
		name      string
		answer    func(string, int) (int, http.Header, string)
		maxWait   time.Duration
		wantWaits []time.Duration
	}{
		{"503 Retry-After 30", retryAfter(503, "30"), 0, []time.Duration{30 * time.Second, 30 * time.Second, 30 * time.Second}},
		{"503 Retry-After capped", retryAfter(503, "30"), 10 * time.Second, []time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second}},
		{"429 Retry-After 2", retryAfter(429, "2"), 0, []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{"502 without Retry-After", retryAfter(502, ""), 0, []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScripted(t, tt.answer)
			sl := &sleeps{}
			p, err := NewProvider(Config{TokenURL: s.tokenURL(), ClientID: "c", Credentials: Credentials{Username: testUser, Password: testPassword},
				Sleep: sl.sleep, MaxWait: tt.maxWait, Backoff: func(int) time.Duration { return time.Millisecond }})
			if err != nil {
				t.Fatal(err)
			}
			errs := run(8, func(int) error { _, err := p.Token(context.Background()); return err })
			_, err = p.Token(context.Background())
			errs = append(errs, err)
			if got := s.count("password"); got != DefaultMaxAttempts {
				t.Errorf("password grants: got %d, want %d (the attempt budget, whatever the callers)", got, DefaultMaxAttempts)
			}
			if got := sl.got(); len(got) != len(tt.wantWaits) || !equalDurations(got, tt.wantWaits) {
				t.Errorf("waits: got %v, want %v", got, tt.wantWaits)
			}
			for i, err := range errs {
				if !errors.Is(err, ErrLoginFailed) || !errors.Is(err, ErrTokenEndpointUnavailable) {
					t.Errorf("caller %d: got %v, want ErrLoginFailed and ErrTokenEndpointUnavailable", i, err)
				}
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// TestRefusedRefreshIsNeverResent: any 4xx to a refresh grant drops that
// refresh token and makes one password grant, shared by every caller.
func TestRefusedRefreshIsNeverResent(t *testing.T) {
	for _, code := range []string{"invalid_grant", "invalid_request", "invalid_client", "unauthorized_client", "some_new_code"} {
		t.Run(code, func(t *testing.T) {
			s := newScripted(t, func(grant string, n int) (int, http.Header, string) {
				if grant == "refresh_token" {
					return 400, nil, `{"error":"` + code + `","error_description":"Token is not active"}`
				}
				return 200, nil, `{"access_token":"at-` + string(rune('0'+n)) + `","token_type":"Bearer","expires_in":300,"refresh_token":"rt-` + string(rune('0'+n)) + `"}`
			})
			clock := t0
			var mu sync.Mutex
			now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
			p, err := NewProvider(Config{TokenURL: s.tokenURL(), ClientID: "c", Credentials: Credentials{Username: testUser, Password: testPassword}, Now: now, Sleep: (&sleeps{}).sleep})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Token(context.Background()); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			clock = clock.Add(10 * time.Minute) // past the access token's life
			mu.Unlock()
			toks := make([]string, 16)
			for i, err := range run(16, func(i int) (err error) { toks[i], err = p.Token(context.Background()); return err }) {
				if err != nil || toks[i] != "at-2" {
					t.Errorf("caller %d: got %q, %v; want the token of the second login", i, toks[i], err)
				}
			}
			if r, pw := s.count("refresh_token"), s.count("password"); r != 1 || pw != 2 {
				t.Errorf("grants: got %d refresh, %d password; want 1 refresh, then 1 new login (2 in all)", r, pw)
			}
		})
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30", 30 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q): got %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestUntrustedTokenEndpoint: a token endpoint whose certificate is not
// trusted is asked once; the error is final for the run.
func TestUntrustedTokenEndpoint(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p, err := NewProvider(Config{TokenURL: srv.URL + "/oauth2/token", ClientID: "c", Credentials: Credentials{Username: testUser, Password: testPassword}, Sleep: (&sleeps{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := p.Token(context.Background()); !errors.Is(err, ErrLoginFailed) || !errors.Is(err, ErrTokenEndpointUnavailable) || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("call %d: got %v, want a final certificate error", i, err)
		}
	}
	if got := p.Stats().PasswordGrants; got != 1 {
		t.Errorf("password grant attempts: got %d, want 1", got)
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("TLS connections: got %d, want 1", got)
	}
}

// TestEmptyStateIsNotFresh: while a refused refresh token is replaced by a
// new login, the provider holds a state without tokens; a concurrent
// caller must join the login, not take that state's empty access token.
func TestEmptyStateIsNotFresh(t *testing.T) {
	if (&tokenState{}).fresh(t0) {
		t.Error("a state without an access token is fresh; callers would get an empty token")
	}
	if !(&tokenState{access: "at"}).fresh(t0) {
		t.Error("an access token of unknown lifetime is not fresh")
	}
}

// TestRetrieveErrorScrubsEchoedSecrets: a token endpoint that echoes the
// password or the refresh token it was sent, in error_description or in a
// body that is not OAuth2 JSON, as it is or form-encoded, does not have it
// printed.
func TestRetrieveErrorScrubsEchoedSecrets(t *testing.T) {
	const (
		password = "Pw echo/7e2+secret"
		refresh  = "rt-echo-4b9d-never-print"
	)
	ok := `{"access_token":"at-1","token_type":"Bearer","expires_in":300,"refresh_token":"` + refresh + `"}`
	tests := []struct {
		name    string
		refresh bool // the echo answers a refresh grant, after one login
		status  int
		ctype   string
		body    string
		secret  string
	}{
		{"password in error_description", false, 401, "", `{"error":"invalid_grant","error_description":"bad password ` + password + `"}`, password},
		{"form-encoded password in error_description", false, 400, "", `{"error":"invalid_request","error_description":"body was password=` + url.QueryEscape(password) + `"}`, password},
		{"password in an HTML page", false, 403, "text/html", `<p>rejected: ` + password + `</p>`, password},
		{"refresh token in error_description", true, 503, "", `{"error":"temporarily_unavailable","error_description":"cannot refresh ` + refresh + ` now"}`, refresh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScripted(t, func(grant string, n int) (int, http.Header, string) {
				var h http.Header
				if tt.ctype != "" {
					h = http.Header{"Content-Type": {tt.ctype}}
				}
				if tt.refresh && grant == "password" {
					if n == 1 {
						return 200, nil, ok
					}
					return 503, nil, `{"error":"temporarily_unavailable"}`
				}
				return tt.status, h, tt.body
			})
			clock := t0
			var mu sync.Mutex
			now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
			var logs syncBuffer
			p, err := NewProvider(Config{TokenURL: s.tokenURL(), ClientID: "c", Credentials: Credentials{Username: testUser, Password: password},
				Now: now, Sleep: (&sleeps{}).sleep, MaxAttempts: 1, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			if err != nil {
				t.Fatal(err)
			}
			if tt.refresh {
				if _, err := p.Token(t.Context()); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				clock = clock.Add(10 * time.Minute) // past the access token's life
				mu.Unlock()
			}
			_, err = p.Token(t.Context())
			if err == nil {
				t.Fatal("got a token, want the endpoint's refusal")
			}
			got := err.Error() + "\n" + logs.String()
			for _, form := range []string{tt.secret, url.QueryEscape(tt.secret)} {
				if strings.Contains(got, form) {
					t.Errorf("the secret appears in the error or the log:\n%s", got)
				}
			}
			if !strings.Contains(err.Error(), "[redacted]") {
				t.Errorf("got %q, want the echo quoted with the secret [redacted]", err)
			}
		})
	}
}

// TestSessionEndScrubsEchoedToken: a revocation endpoint that echoes the
// refresh token it was sent does not have it quoted in Close's error.
func TestSessionEndScrubsEchoedToken(t *testing.T) {
	const refresh = "rt-revoke-echo-51c2"
	s := newScripted(t, func(grant string, n int) (int, http.Header, string) {
		if grant == "password" {
			return 200, nil, `{"access_token":"at-1","token_type":"Bearer","expires_in":300,"refresh_token":"` + refresh + `"}`
		}
		return 400, nil, `{"error":"invalid_request","error_description":"cannot revoke token=` + refresh + `"}`
	})
	p, err := NewProvider(Config{TokenURL: s.tokenURL(), ClientID: "c", Credentials: Credentials{Username: testUser, Password: testPassword},
		SessionEnd: &SessionEnd{RevocationURL: s.srv.URL + "/revoke"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	err = p.Close(t.Context())
	if err == nil || strings.Contains(err.Error(), refresh) || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("got %v, want the revocation's refusal with the refresh token [redacted]", err)
	}
}
