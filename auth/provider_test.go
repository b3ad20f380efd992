package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcdl/wcdl/auth/keycloaktest"
)

var t0 = time.Date(2026, 11, 22, 20, 0, 0, 0, time.UTC)

// Distinctive secrets, so leak checks cannot match by accident.
const (
	testUser     = "leak-check-user"
	testPassword = "Pw-7c1f9e0d-never-print-me"
)

// fixture is a fake Keycloak and a Provider sharing one manual clock.
type fixture struct {
	kc    *keycloaktest.Server
	clock *keycloaktest.Clock
	p     *Provider
	logs  *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFixture(t *testing.T, cfg Config, opts ...keycloaktest.Option) *fixture {
	t.Helper()
	clock := keycloaktest.NewClock(t0)
	opts = append([]keycloaktest.Option{keycloaktest.WithClock(clock.Now), keycloaktest.WithUser(testUser, testPassword)}, opts...)
	kc := keycloaktest.NewServer(opts...)
	t.Cleanup(kc.Close)
	if cfg.TokenURL == "" {
		cfg.TokenURL = kc.TokenURL()
	}
	if cfg.ClientID == "" {
		cfg.ClientID = keycloaktest.DefaultClient
	}
	if cfg.Credentials == (Credentials{}) {
		cfg.Credentials = Credentials{Username: testUser, Password: testPassword}
	}
	logs := &syncBuffer{}
	cfg.Now = clock.Now
	cfg.Backoff = func(int) time.Duration { return time.Millisecond }
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := NewProvider(cfg)
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	return &fixture{kc: kc, clock: clock, p: p, logs: logs}
}

func (f *fixture) token(t *testing.T) string {
	t.Helper()
	tok, err := f.p.Token(context.Background())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok
}

// wantGrants checks the fake's successful and failed grant counters.
func (f *fixture) wantGrants(t *testing.T, password, refresh, failedPassword, failedRefresh int64) {
	t.Helper()
	st := f.kc.Stats()
	if st.PasswordGrants != password || st.RefreshGrants != refresh || st.FailedPasswordGrants != failedPassword || st.FailedRefreshGrants != failedRefresh {
		t.Errorf("fake Keycloak: got %d password, %d refresh, %d failed password, %d failed refresh grants; want %d, %d, %d, %d",
			st.PasswordGrants, st.RefreshGrants, st.FailedPasswordGrants, st.FailedRefreshGrants, password, refresh, failedPassword, failedRefresh)
	}
}

// secrets returns the password and every token the fake has issued to p.
func (f *fixture) secrets() []string {
	out := []string{testPassword}
	if st := f.p.state.Load(); st != nil {
		out = append(out, st.access, st.refresh)
	}
	return out
}

func TestGrantForms(t *testing.T) {
	var mu sync.Mutex
	var forms []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); r.Method != http.MethodPost || ct != "application/x-www-form-urlencoded" {
			t.Errorf("got %s with Content-Type %q, want a form POST", r.Method, ct)
		}
		_ = r.ParseForm()
		mu.Lock()
		forms = append(forms, r.PostForm)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at-%d","expires_in":60,"refresh_token":"rt-%d","refresh_expires_in":600,"token_type":"Bearer"}`, len(forms), len(forms))
	}))
	defer srv.Close()
	clock := keycloaktest.NewClock(t0)
	p, err := NewProvider(Config{TokenURL: srv.URL + "/token", ClientID: "mgp", Scope: "openid",
		Credentials: Credentials{Username: "ann", Password: "pw"}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Token(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := p.Token(ctx); err != nil {
		t.Fatal(err)
	}
	want := []url.Values{
		{"grant_type": {"password"}, "client_id": {"mgp"}, "scope": {"openid"}, "username": {"ann"}, "password": {"pw"}},
		{"grant_type": {"refresh_token"}, "client_id": {"mgp"}, "scope": {"openid"}, "refresh_token": {"rt-1"}},
	}
	if fmt.Sprint(forms) != fmt.Sprint(want) {
		t.Errorf("forms: got %v, want %v", forms, want)
	}
}

// answering returns a token endpoint that always answers status and body
// with Content-Type ctype, and a counter of requests.
func answering(t *testing.T, status int, ctype, body string) (string, func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/auth/realms/r/protocol/openid-connect/token", func() int { mu.Lock(); defer mu.Unlock(); return n }
}

func TestAnswerParsing(t *testing.T) {
	const secretAT = "AT-5b8e2c77-secret-access-token"
	const secretRT = "RT-0a9d4f31-secret-refresh-token"
	tests := []struct {
		name      string
		status    int
		ctype     string
		body      string
		wantErr   string // empty: success
		wantCalls int
	}{
		{"bearer lower case", 200, "application/json", `{"access_token":"` + secretAT + `","token_type":"bearer","expires_in":60}`, "", 1},
		{"bearer upper case", 200, "application/json;charset=UTF-8", `{"access_token":"` + secretAT + `","token_type":"BEARER","expires_in":60}`, "", 1},
		{"other token type", 200, "application/json", `{"access_token":"` + secretAT + `","refresh_token":"` + secretRT + `","token_type":"mac"}`, `token_type "mac"`, 1},
		{"no token type", 200, "application/json", `{"access_token":"` + secretAT + `"}`, `token_type ""`, 1},
		{"no access token", 200, "application/json", `{"token_type":"Bearer"}`, "no access_token", 1},
		{"malformed JSON", 200, "application/json", `{"access_token":"` + secretAT + `",`, "not valid token JSON", 1},
		{"HTML from a proxy", 200, "text/html", "<html>\x1b[31mSign\tin\r\n</html>", `200 OK with a body that is not OAuth2 JSON: "<html> [31mSign in </html>"`, 1},
		{"HTML 502 retried", 502, "text/html", "<html><body>" + strings.Repeat("Bad gateway ", 100) + "</body></html>", "502 Bad Gateway with a body", DefaultMaxAttempts},
		{"JSON 503 retried", 503, "application/json", `{"error":"temporarily_unavailable"}`, `503 Service Unavailable: "temporarily_unavailable"`, DefaultMaxAttempts},
		{"unauthorized client", 400, "application/json", `{"error":"unauthorized_client","error_description":"Client not allowed for direct access grants"}`, "unauthorized_client", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, calls := answering(t, tt.status, tt.ctype, tt.body)
			p, err := NewProvider(Config{TokenURL: u, ClientID: "c", Credentials: Credentials{Username: "u", Password: testPassword},
				Backoff: func(int) time.Duration { return 0 }})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := p.Token(context.Background())
			if calls() != tt.wantCalls {
				t.Errorf("token requests: got %d, want %d", calls(), tt.wantCalls)
			}
			if tt.wantErr == "" {
				if err != nil || tok != secretAT {
					t.Errorf("got %q, %v; want the access token", tok, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got token %q, want an error containing %q", tok, tt.wantErr)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantErr) {
				t.Errorf("error: got %q, want it to contain %q", msg, tt.wantErr)
			}
			for _, s := range []string{secretAT, secretRT, testPassword} {
				if strings.Contains(msg, s) {
					t.Errorf("error %q holds a secret", msg)
				}
			}
			var re *RetrieveError
			if errors.As(err, &re) && (len(re.Excerpt) > maxExcerpt || strings.ContainsAny(re.Excerpt, "\x1b\r\n\t")) {
				t.Errorf("excerpt: got %d bytes %q, want at most %d without control characters", len(re.Excerpt), re.Excerpt, maxExcerpt)
			}
		})
	}
}

func TestDefaultBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 5: 8 * time.Second, 9: 8 * time.Second} {
		for range 20 {
			if got := defaultBackoff(n); got < want/2 || got > want {
				t.Errorf("defaultBackoff(%d): got %v, want between %v and %v", n, got, want/2, want)
			}
		}
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"  a\r\n\tb\x00c  ", "a b c"},
		{"bidi\u202eevil", "bidi evil"},
		{"\xff\xfebad utf8", "bad utf8"},
		{strings.Repeat("é", 150), strings.Repeat("é", 100)},
	}
	for _, tt := range tests {
		if got := excerpt([]byte(tt.in)); got != tt.want {
			t.Errorf("excerpt(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRenewalPolicy(t *testing.T) {
	tests := []struct {
		name string
		opts []keycloaktest.Option
		cfg  Config
		// steps advance the clock and call Token; after each, the fake
		// must have answered this many password and refresh grants.
		steps []step
	}{
		{"cached while valid, refreshed at the default margin",
			nil, Config{},
			[]step{{0, 1, 0}, {269 * time.Second, 1, 0}, {time.Second, 1, 1}, {269 * time.Second, 1, 1}, {time.Second, 1, 2}}},
		{"margin capped at a tenth of the lifetime",
			[]keycloaktest.Option{keycloaktest.WithAccessLifetime(40 * time.Second)}, Config{Margin: time.Minute},
			[]step{{0, 1, 0}, {35 * time.Second, 1, 0}, {time.Second, 1, 1}}},
		{"explicit margin",
			nil, Config{Margin: 20 * time.Second},
			[]step{{0, 1, 0}, {279 * time.Second, 1, 0}, {time.Second, 1, 1}}},
		{"password grant once the refresh token expired",
			[]keycloaktest.Option{keycloaktest.WithAccessLifetime(60 * time.Second), keycloaktest.WithRefreshLifetime(100 * time.Second)}, Config{},
			// The refresh at 54 s (a tenth of the lifetime early) yields
			// a refresh token valid until 154 s.
			[]step{{0, 1, 0}, {53 * time.Second, 1, 0}, {time.Second, 1, 1}, {101 * time.Second, 2, 1}}},
		{"refresh_expires_in 0 keeps the refresh token until refused",
			[]keycloaktest.Option{keycloaktest.WithRefreshLifetime(0)}, Config{},
			[]step{{0, 1, 0}, {1000 * time.Hour, 1, 1}, {1000 * time.Hour, 1, 2}}},
		{"no refresh token: password grant each time",
			[]keycloaktest.Option{keycloaktest.WithoutRefreshToken()}, Config{},
			[]step{{0, 1, 0}, {270 * time.Second, 2, 0}}},
		{"no expires_in: never renewed by the clock",
			[]keycloaktest.Option{keycloaktest.WithOmitExpiresIn()}, Config{},
			[]step{{0, 1, 0}, {1000 * time.Hour, 1, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.cfg, tt.opts...)
			for i, s := range tt.steps {
				f.clock.Advance(s.advance)
				f.token(t)
				if st := f.kc.Stats(); st.PasswordGrants != s.password || st.RefreshGrants != s.refresh {
					t.Fatalf("step %d: got %d password and %d refresh grants, want %d and %d", i, st.PasswordGrants, st.RefreshGrants, s.password, s.refresh)
				}
			}
			if st := f.kc.Stats(); st.TokenRequests() != f.p.Stats().TokenRequests() {
				t.Errorf("provider counted %d token requests, fake %d", f.p.Stats().TokenRequests(), st.TokenRequests())
			}
		})
	}
}

type step struct {
	advance           time.Duration
	password, refresh int64
}

func TestRefusedWithoutExpiresIn(t *testing.T) {
	f := newFixture(t, Config{}, keycloaktest.WithOmitExpiresIn())
	tok := f.token(t)
	f.clock.Advance(50 * time.Minute) // within the refresh token's hour
	if got := f.token(t); got != tok {
		t.Errorf("token changed without a refusal")
	}
	got, err := f.p.Refused(context.Background(), tok)
	if err != nil || got == tok || !f.kc.Valid(got) {
		t.Errorf("Refused: got a new token %v, valid %v, err %v; want a new valid token", got != tok, f.kc.Valid(got), err)
	}
	f.wantGrants(t, 1, 1, 0, 0)
}

func TestInvalidRefreshFallsBackOnce(t *testing.T) {
	f := newFixture(t, Config{})
	old := f.token(t)
	f.kc.RevokeAll()
	got, err := f.p.Refused(context.Background(), old)
	if err != nil || !f.kc.Valid(got) {
		t.Fatalf("Refused after RevokeAll: valid %v, err %v; want a valid token", f.kc.Valid(got), err)
	}
	f.wantGrants(t, 2, 0, 0, 1)
	if ps := f.p.Stats(); ps.PasswordGrants != 2 || ps.RefreshGrants != 1 || ps.FailedRequests != 1 {
		t.Errorf("provider stats: got %+v, want 2 password, 1 refresh, 1 failed", ps)
	}
}

func TestFallbackPasswordFailureDoesNotLoop(t *testing.T) {
	f := newFixture(t, Config{MaxAttempts: 2})
	old := f.token(t)
	f.kc.RevokeAll()
	f.kc.FailNext(100)
	_, err := f.p.Refused(context.Background(), old)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("got %v, want a 503 error", err)
	}
	// One refresh answered 503 is retried once; nothing else is tried.
	if got := f.kc.Stats().TokenRequests(); got != 3 {
		t.Errorf("token requests: got %d, want 3 (1 password, 2 refresh attempts)", got)
	}
}

// run calls fn from n goroutines and returns their errors.
func run(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errs
}

func TestOneRequestPerLifetime(t *testing.T) {
	const lifetime = 10 * time.Second
	f := newFixture(t, Config{}, keycloaktest.WithAccessLifetime(lifetime))
	for round := range 6 {
		toks := make([]string, 64)
		for i, err := range run(64, func(i int) (err error) {
			toks[i], err = f.p.Token(context.Background())
			return err
		}) {
			if err != nil {
				t.Fatalf("round %d caller %d: %v", round, i, err)
			}
		}
		for i, tok := range toks {
			if tok != toks[0] || !f.kc.Valid(tok) {
				t.Fatalf("round %d caller %d: got a different or invalid token", round, i)
			}
		}
		if got, want := f.kc.Stats().TokenRequests(), int64(round+1); got != want {
			t.Fatalf("round %d: got %d token requests, want %d", round, got, want)
		}
		f.clock.Advance(lifetime)
	}
	f.wantGrants(t, 1, 5, 0, 0)
}

// waitingCallers makes p signal on the returned channel each time a caller
// starts waiting for a shared renewal.
func waitingCallers(p *Provider) <-chan struct{} {
	ch := make(chan struct{}, 1024)
	p.waiting = func() { ch <- struct{}{} }
	return ch
}

func TestConcurrentCallersShareOneRequest(t *testing.T) {
	f := newFixture(t, Config{})
	waiting := waitingCallers(f.p)
	release := f.kc.Hold()
	toks := make([]string, 64)
	done := make(chan []error)
	go func() {
		done <- run(64, func(i int) (err error) {
			toks[i], err = f.p.Token(context.Background())
			return err
		})
	}()
	for range 64 {
		<-waiting
	}
	<-f.kc.WaitFor(func(s keycloaktest.Stats) bool { return s.Received >= 1 })
	release()
	for i, err := range <-done {
		if err != nil || toks[i] != toks[0] {
			t.Errorf("caller %d: got same token %v, err %v", i, toks[i] == toks[0], err)
		}
	}
	f.wantGrants(t, 1, 0, 0, 0)
}

func TestCancelledFirstCaller(t *testing.T) {
	f := newFixture(t, Config{})
	waiting := waitingCallers(f.p)
	release := f.kc.Hold()
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error)
	go func() {
		_, err := f.p.Token(ctx)
		first <- err
	}()
	<-f.kc.WaitFor(func(s keycloaktest.Stats) bool { return s.Received == 1 })
	<-waiting
	second := make(chan error)
	go func() {
		tok, err := f.p.Token(context.Background())
		if err == nil && !f.kc.Valid(tok) {
			err = errors.New("invalid token")
		}
		second <- err
	}()
	<-waiting
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("first caller: got %v, want context.Canceled", err)
	}
	release()
	if err := <-second; err != nil {
		t.Errorf("second caller: got %v, want a valid token", err)
	}
	f.wantGrants(t, 1, 0, 0, 0)
}

func TestRefusedStorm(t *testing.T) {
	f := newFixture(t, Config{})
	old := f.token(t)
	waiting := waitingCallers(f.p)
	release := f.kc.Hold()
	toks := make([]string, 64)
	refuse := func(i int) (err error) {
		toks[i], err = f.p.Refused(context.Background(), old)
		return err
	}
	early := make(chan []error)
	go func() { early <- run(32, refuse) }()
	for range 32 {
		<-waiting
	}
	release()
	errs := <-early
	// The other 32 report the same refused token after the refresh.
	errs = append(errs, run(32, func(i int) error { return refuse(32 + i) })...)
	for i, err := range errs {
		if err != nil || toks[i] == old || toks[i] != toks[0] {
			t.Errorf("caller %d: got new shared token %v, err %v", i, toks[i] != old && toks[i] == toks[0], err)
		}
	}
	f.wantGrants(t, 1, 1, 0, 0)
}

func TestBadCredentials(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		wantCode string
		wantHTTP int
	}{
		{"wrong password", Config{Credentials: Credentials{Username: testUser, Password: testPassword + "-wrong"}}, "invalid_grant", 401},
		{"unknown client", Config{ClientID: "nobody"}, "invalid_client", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.cfg)
			errs := run(16, func(int) error { _, err := f.p.Token(context.Background()); return err })
			_, err := f.p.Refused(context.Background(), "whatever")
			errs = append(errs, err)
			for i, err := range errs {
				var re *RetrieveError
				if !errors.Is(err, ErrBadCredentials) || !errors.As(err, &re) || re.Code != tt.wantCode || re.StatusCode != tt.wantHTTP {
					t.Errorf("caller %d: got %v, want a %d %s RetrieveError that Is ErrBadCredentials", i, err, tt.wantHTTP, tt.wantCode)
					continue
				}
				for _, s := range []string{testPassword, tt.cfg.Credentials.Password} {
					if s != "" && strings.Contains(err.Error(), s) {
						t.Errorf("error %q holds the password", err)
					}
				}
			}
			f.wantGrants(t, 0, 0, 1, 0)
		})
	}
}

func TestRetrieveErrorIs(t *testing.T) {
	tests := []struct {
		code, grant string
		want        bool
	}{
		{"invalid_grant", "password", true},
		{"invalid_grant", "refresh_token", false},
		{"invalid_client", "refresh_token", true},
		{"unauthorized_client", "password", true},
		{"invalid_request", "password", false},
		{"", "password", false},
	}
	for _, tt := range tests {
		err := fmt.Errorf("wrapped: %w", &RetrieveError{StatusCode: 400, Code: tt.code, grant: tt.grant})
		if got := errors.Is(err, ErrBadCredentials); got != tt.want {
			t.Errorf("%s on %s grant: Is ErrBadCredentials got %v, want %v", tt.code, tt.grant, got, tt.want)
		}
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name         string
		failNext     int
		wantErr      bool
		wantRequests int64
	}{
		{"recovers after two 503s", 2, false, 3},
		{"gives up after MaxAttempts", 10, true, DefaultMaxAttempts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{})
			f.kc.FailNext(tt.failNext)
			_, err := f.p.Token(context.Background())
			if (err != nil) != tt.wantErr {
				t.Errorf("got error %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "503 Service Unavailable") {
				t.Errorf("error %q does not quote the status", err)
			}
			if got := f.kc.Stats().TokenRequests(); got != tt.wantRequests {
				t.Errorf("token requests: got %d, want %d", got, tt.wantRequests)
			}
		})
	}

	t.Run("network errors", func(t *testing.T) {
		f := newFixture(t, Config{MaxAttempts: 3})
		f.kc.Close()
		_, err := f.p.Token(context.Background())
		if err == nil {
			t.Fatal("got a token from a closed server")
		}
		if got := f.p.Stats(); got.PasswordGrants != 3 || got.FailedRequests != 3 {
			t.Errorf("got %+v, want 3 failed password attempts", got)
		}
	})

	t.Run("context checked before each retry", func(t *testing.T) {
		f := newFixture(t, Config{})
		f.kc.FailNext(10)
		ctx, cancel := context.WithCancel(context.Background())
		f.p.backoff = func(int) time.Duration { cancel(); return time.Hour }
		_, err := f.p.grant(ctx, url.Values{"grant_type": {"password"}})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
		if got := f.kc.Stats().TokenRequests(); got != 1 {
			t.Errorf("token requests: got %d, want 1", got)
		}
	})
}

func TestNoSecretsInErrorsOrLogs(t *testing.T) {
	f := newFixture(t, Config{MaxAttempts: 2})
	ctx := context.Background()
	var errs []error
	tok := f.token(t)
	secrets := f.secrets()
	f.kc.RevokeAll()
	f.kc.FailNext(2)
	_, err := f.p.Refused(ctx, tok) // refresh rejected, then 503s
	errs = append(errs, err)
	tr := &Transport{Source: f.p, Trusted: []string{"svc.test"}, Base: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 401, Status: "401 Unauthorized", Body: http.NoBody}, nil
	})}
	req, _ := http.NewRequest(http.MethodGet, "https://svc.test/tile.tif?sig=abc", nil)
	_, err = tr.RoundTrip(req)
	errs = append(errs, err)
	secrets = append(secrets, f.secrets()...)

	bad := newFixture(t, Config{Credentials: Credentials{Username: testUser, Password: "Wrong-3e1d-password"}})
	_, err = bad.p.Token(ctx)
	errs = append(errs, err)
	secrets = append(secrets, "Wrong-3e1d-password")

	shown := f.logs.String() + bad.logs.String()
	for _, err := range errs {
		if err == nil {
			t.Errorf("expected an error")
			continue
		}
		shown += err.Error() + "\n"
	}
	c := Credentials{Username: testUser, Password: testPassword}
	var logged syncBuffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("creds", "c", c)
	shown += fmt.Sprintf("%v %+v %#v %s\n", c, c, c, c) + logged.String()
	if !strings.Contains(shown, testUser) || !strings.Contains(shown, "[redacted]") {
		t.Errorf("output lacks the username or the redaction mark: %s", shown)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(shown, s) {
			t.Errorf("a secret of %d bytes appears in errors or logs", len(s))
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewProviderValidation(t *testing.T) {
	creds := Credentials{Username: "u", Password: "p"}
	tests := []struct {
		url     string
		client  string
		creds   Credentials
		wantErr error // nil: accepted; errAny: any error
	}{
		{"https://sso.example.org/token", "c", creds, nil},
		{"http://127.0.0.1:8080/token", "c", creds, nil},
		{"http://127.1.2.3/token", "c", creds, nil},
		{"http://[::1]:8080/token", "c", creds, nil},
		{"http://localhost/token", "c", creds, nil},
		{"http://sso.example.org/token", "c", creds, ErrInsecureTokenURL},
		{"http://10.0.0.1/token", "c", creds, ErrInsecureTokenURL},
		{"http://localhost.example.org/token", "c", creds, ErrInsecureTokenURL},
		{"ftp://sso.example.org/token", "c", creds, errAny},
		{"https:///token", "c", creds, errAny},
		{"https://sso.example.org/token", "", creds, errAny},
		{"https://sso.example.org/token", "c", Credentials{Username: "u"}, errAny},
		{"https://u:hunter2@sso.example.org/token", "c", creds, errAny},
		{"https://u:hunter2@[::1/token", "c", creds, errAny}, // unparsable
	}
	for _, tt := range tests {
		_, err := NewProvider(Config{TokenURL: tt.url, ClientID: tt.client, Credentials: tt.creds})
		if cerr := CheckTokenURL(tt.url); tt.client != "" && tt.creds.Password != "" && (cerr == nil) != (err == nil) {
			t.Errorf("%s: CheckTokenURL says %v, NewProvider %v", tt.url, cerr, err)
		}
		switch {
		case tt.wantErr == nil && err != nil:
			t.Errorf("%s: got %v, want accepted", tt.url, err)
		case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
			t.Errorf("%s: got %v, want %v", tt.url, err, tt.wantErr)
		case err != nil && strings.Contains(err.Error(), "hunter2"):
			t.Errorf("%s: the error shows the password in the URL: %v", tt.url, err)
		}
	}
}

var errAny = errors.New("any error")

func TestCloseLogsOut(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	if err := f.p.Close(ctx); err != nil {
		t.Errorf("Close before any token: %v", err)
	}
	tok := f.token(t)
	if got := f.kc.Stats().LiveSessions; got != 1 {
		t.Fatalf("live sessions: got %d, want 1", got)
	}
	if err := f.p.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if st := f.kc.Stats(); st.LiveSessions != 0 || st.Logouts != 1 {
		t.Errorf("after Close: got %d live sessions and %d logouts, want 0 and 1", st.LiveSessions, st.Logouts)
	}
	if f.kc.Valid(tok) {
		t.Errorf("access token still valid after logout")
	}
}

func TestLookupPreset(t *testing.T) {
	tests := []struct {
		name, wantURL, wantClient, wantScope string
	}{
		{"", "https://sso.terrascope.be/auth/realms/terrascope/protocol/openid-connect/token", "public", ""},
		{"terrascope", "https://sso.terrascope.be/auth/realms/terrascope/protocol/openid-connect/token", "public", ""},
		{"MAXAR", "https://account.maxar.com/auth/realms/mds/protocol/openid-connect/token", "mgp", "openid"},
		{"cdse", "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token", "cdse-public", ""},
	}
	for _, tt := range tests {
		p, err := LookupPreset(tt.name)
		if err != nil || p.TokenURL != tt.wantURL || p.ClientID != tt.wantClient || p.Scope != tt.wantScope {
			t.Errorf("LookupPreset(%q): got %+v, %v; want %s %s %q", tt.name, p, err, tt.wantURL, tt.wantClient, tt.wantScope)
		}
	}
	_, err := LookupPreset("nasa")
	if err == nil || !strings.Contains(err.Error(), "terrascope, maxar, cdse") {
		t.Errorf("unknown preset: got %v, want an error listing the known ones", err)
	}
}

// TestCloseEndsSessionOfInterruptedLogin: a run interrupted while its login
// is under way still ends the session that login opens.
func TestCloseEndsSessionOfInterruptedLogin(t *testing.T) {
	f := newFixture(t, Config{})
	release := f.kc.Hold()
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error)
	go func() {
		_, err := f.p.Token(ctx)
		first <- err
	}()
	<-f.kc.WaitFor(func(s keycloaktest.Stats) bool { return s.Received == 1 })
	cancel() // the interrupt: the worker stops waiting, the login goes on
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("Token: got %v, want context.Canceled", err)
	}
	closed := make(chan error)
	go func() { closed <- f.p.Close(context.Background()) }()
	release()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if st := f.kc.Stats(); st.PasswordGrants != 1 || st.Logouts != 1 || st.LiveSessions != 0 {
		t.Errorf("fake Keycloak: %d logins, %d logouts, %d live sessions; want the session the login opened ended", st.PasswordGrants, st.Logouts, st.LiveSessions)
	}
}

// TestNonJSONSuccessNotQuoted: a 200 answer with the wrong Content-Type is
// an error that never quotes the body, which may hold tokens.
func TestNonJSONSuccessNotQuoted(t *testing.T) {
	const access, refresh = "SECRET-ACCESS-0a1b2c3d", "SECRET-REFRESH-4e5f6a7b"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, `{"access_token":%q,"refresh_token":%q,"token_type":"Bearer","expires_in":300}`, access, refresh)
	}))
	defer srv.Close()
	p, err := NewProvider(Config{TokenURL: srv.URL + "/token", ClientID: "c", Credentials: Credentials{Username: testUser, Password: testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Token(context.Background())
	if err == nil {
		t.Fatal("Token: no error for a text/plain answer")
	}
	for _, s := range []string{access, refresh, testPassword} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error quotes a secret: %v", err)
		}
	}
	if !strings.Contains(err.Error(), `labelled "text/plain"`) {
		t.Errorf("error = %v, want it to name the Content-Type", err)
	}
}

// TestProviderPrintsNoSecret: printing a Provider, in any verb, shows no
// credential.
func TestProviderPrintsNoSecret(t *testing.T) {
	f := newFixture(t, Config{})
	f.token(t)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, f.p)
		for _, s := range f.secrets() {
			if strings.Contains(out, s) {
				t.Errorf("%s of a Provider holds a secret: %s", verb, out)
			}
		}
	}
}

// TestRefreshWithoutNewRefreshToken: a provider that answers refresh grants
// without a refresh token leaves the one sent valid (RFC 6749 §6). Every
// renewal of the run uses it: one password grant, one session, ended by
// Close.
func TestRefreshWithoutNewRefreshToken(t *testing.T) {
	const life = 10 * time.Second
	f := newFixture(t, Config{}, keycloaktest.WithAccessLifetime(life), keycloaktest.WithoutNewRefreshToken())
	const renewals = 5
	prev := f.token(t)
	for i := range renewals {
		f.clock.Advance(life)
		tok := f.token(t)
		if tok == prev {
			t.Fatalf("renewal %d: got the expired token again", i+1)
		}
		prev = tok
	}
	f.wantGrants(t, 1, renewals, 0, 0)
	if err := f.p.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if st := f.kc.Stats(); st.Logouts != 1 || st.LiveSessions != 0 {
		t.Errorf("fake Keycloak: %d logouts, %d live sessions after Close; want 1 and 0", st.Logouts, st.LiveSessions)
	}
}
