// Package auth_test runs wcdl's token provider against fosite, a real OAuth2
// server that is not Keycloak, and counts what reaches it.
package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/interop/fositetest"
)

// fositeFixture is a fosite server and a Provider with a manual clock.
type fositeFixture struct {
	srv   *fositetest.Server
	p     *auth.Provider
	mu    sync.Mutex
	clock time.Time
}

func newFositeFixture(t *testing.T, o fositetest.Options, cfg auth.Config) *fositeFixture {
	t.Helper()
	f := &fositeFixture{srv: fositetest.NewServer(o), clock: time.Now()}
	t.Cleanup(f.srv.Close)
	if cfg.TokenURL == "" {
		cfg.TokenURL = f.srv.TokenURL()
	}
	if cfg.ClientID == "" {
		cfg.ClientID = fositetest.Client
	}
	if cfg.Credentials == (auth.Credentials{}) {
		cfg.Credentials = auth.Credentials{Username: fositetest.User, Password: fositetest.Password}
	}
	cfg.Now = f.now
	// No test here expects a wait between token requests; one that asked
	// for one returns at once instead of sleeping.
	cfg.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	if cfg.SessionEnd == nil {
		d, err := auth.Discover(context.Background(), nil, f.srv.Issuer())
		if err != nil {
			t.Fatalf("Discover: %v", err)
		}
		cfg.SessionEnd = d.SessionEnd(cfg.TokenURL)
	}
	p, err := auth.NewProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.p = p
	return f
}

func (f *fositeFixture) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clock
}

func (f *fositeFixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = f.clock.Add(d)
}

// refreshWorks reports whether fosite still honours rt, by asking it
// directly.
func (f *fositeFixture) refreshWorks(t *testing.T, rt string) bool {
	t.Helper()
	resp, err := http.PostForm(f.srv.TokenURL(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {fositetest.Client}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
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

func TestFositeOneLoginForManyCallers(t *testing.T) {
	f := newFositeFixture(t, fositetest.Options{}, auth.Config{})
	toks := make([]string, 32)
	for i, err := range run(32, func(i int) (err error) { toks[i], err = f.p.Token(context.Background()); return err }) {
		if err != nil || toks[i] != toks[0] {
			t.Fatalf("caller %d: %v, or a different token", i, err)
		}
	}
	if st := f.srv.Stats(); st.PasswordGrants != 1 || st.RefreshGrants != 0 {
		t.Errorf("fosite: %+v, want exactly one password grant", st)
	}
}

func TestFositeRefreshRotationAndRevocation(t *testing.T) {
	f := newFositeFixture(t, fositetest.Options{AccessLifetime: time.Hour}, auth.Config{})
	tok, err := f.p.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	first := f.srv.LastIssued()
	if tok != first.AccessToken || first.RefreshToken == "" {
		t.Fatalf("Token gave a token fosite did not issue last, or fosite issued no refresh token")
	}
	f.advance(time.Hour - 20*time.Second) // within the margin before expiry
	tok, err = f.p.Token(context.Background())
	if err != nil {
		t.Fatalf("Token 20 s before expiry: %v", err)
	}
	second := f.srv.LastIssued()
	if tok == first.AccessToken || tok != second.AccessToken || second.RefreshToken == first.RefreshToken {
		t.Errorf("the refresh grant did not hand out a new access and refresh token")
	}
	if st := f.srv.Stats(); st.PasswordGrants != 1 || st.RefreshGrants != 1 || st.FailedGrants != 0 {
		t.Errorf("fosite: %+v, want 1 password and 1 refresh grant", st)
	}
	if f.refreshWorks(t, first.RefreshToken) {
		t.Errorf("fosite still honours the rotated-out refresh token")
	}
	if err := f.p.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if st := f.srv.Stats(); st.Revocations != 1 {
		t.Errorf("revocations: got %d, want 1", st.Revocations)
	}
	if f.refreshWorks(t, second.RefreshToken) {
		t.Errorf("fosite still honours the refresh token revoked at Close")
	}
}

func TestFositeRefusedRefreshLogsInOnce(t *testing.T) {
	f := newFositeFixture(t, fositetest.Options{AccessLifetime: time.Hour}, auth.Config{})
	if _, err := f.p.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The session ends at the provider behind wcdl's back.
	rt := f.srv.LastIssued().RefreshToken
	resp, err := http.PostForm(f.srv.RevocationURL(), url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}, "client_id": {fositetest.Client}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	f.advance(2 * time.Hour)
	for i, err := range run(16, func(int) error { _, err := f.p.Token(context.Background()); return err }) {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	if st := f.srv.Stats(); st.RefreshGrants != 1 || st.PasswordGrants != 2 {
		t.Errorf("fosite: %+v, want the refused refresh once, then one new login (2 password grants in all)", st)
	}
}

func TestFositeWithoutRefreshTokens(t *testing.T) {
	f := newFositeFixture(t, fositetest.Options{AccessLifetime: 10 * time.Minute, NoRefreshTokens: true}, auth.Config{})
	for round := range 3 {
		for i, err := range run(8, func(int) error { _, err := f.p.Token(context.Background()); return err }) {
			if err != nil {
				t.Fatalf("round %d caller %d: %v", round, i, err)
			}
		}
		if st := f.srv.Stats(); st.PasswordGrants != int64(round+1) || st.RefreshGrants != 0 {
			t.Fatalf("round %d: fosite %+v, want one password grant per access-token lifetime", round, st)
		}
		f.advance(10 * time.Minute)
	}
	if err := f.p.Close(context.Background()); err != nil || f.srv.Stats().Revocations != 0 {
		t.Errorf("Close: %v, %d revocations; want nothing sent without a refresh token", err, f.srv.Stats().Revocations)
	}
}

// TestFositeLoginFailures: fosite's own answers to a wrong password, an
// unknown client and a scope the client may not have are each final after
// one request.
func TestFositeLoginFailures(t *testing.T) {
	tests := []struct {
		name     string
		cfg      auth.Config
		wantCode string
		wantIs   []error
		wantMsg  string
	}{
		{"wrong password", auth.Config{Credentials: auth.Credentials{Username: fositetest.User, Password: "wrong-" + fositetest.Password}}, "invalid_grant", []error{auth.ErrBadCredentials}, "check the username and password"},
		{"unknown client", auth.Config{ClientID: "nobody"}, "invalid_client", []error{auth.ErrBadCredentials}, "--client-id"},
		{"scope not allowed", auth.Config{Scope: "admin"}, "invalid_scope", nil, "--scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFositeFixture(t, fositetest.Options{}, tt.cfg)
			errs := run(16, func(int) error { _, err := f.p.Token(context.Background()); return err })
			_, err := f.p.Token(context.Background())
			errs = append(errs, err)
			if st := f.srv.Stats(); st.PasswordGrants != 1 {
				t.Errorf("fosite: %+v, want exactly one password grant", st)
			}
			for i, err := range errs {
				var re *auth.RetrieveError
				if !errors.Is(err, auth.ErrLoginFailed) || !errors.As(err, &re) || re.Code != tt.wantCode {
					t.Errorf("caller %d: got %v, want a final %s", i, err, tt.wantCode)
					continue
				}
				for _, want := range tt.wantIs {
					if !errors.Is(err, want) {
						t.Errorf("caller %d: %v does not match %v", i, err, want)
					}
				}
				if !strings.Contains(err.Error(), tt.wantMsg) || strings.Contains(err.Error(), fositetest.Password) {
					t.Errorf("caller %d: got %q, want it to say %q and hold no password", i, err, tt.wantMsg)
				}
			}
		})
	}
}
