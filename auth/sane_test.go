package auth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// tokenEndpoint answers every grant with body and counts the grants.
func tokenEndpoint(t *testing.T, body string) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s, &n
}

func newTestProvider(t *testing.T, tokenURL string) *Provider {
	t.Helper()
	p, err := NewProvider(Config{TokenURL: tokenURL + "/realms/r/protocol/openid-connect/token", ClientID: "c",
		Credentials: Credentials{Username: "u", Password: "pw"}, MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHugeLifetimesClamped answers with lifetimes that overflow a
// time.Duration: the token must count as fresh, not as already expired.
func TestHugeLifetimesClamped(t *testing.T) {
	s, grants := tokenEndpoint(t, `{"access_token":"a1","token_type":"Bearer","expires_in":9223372036854775807,"refresh_token":"r1","refresh_expires_in":9223372036854775807}`)
	p := newTestProvider(t, s.URL)
	for range 3 {
		if tok, err := p.Token(context.Background()); err != nil || tok != "a1" {
			t.Fatalf("Token = %q, %v", tok, err)
		}
	}
	if got := grants.Load(); got != 1 {
		t.Errorf("%d grants for three tokens, want 1: a huge expires_in made the token expired", got)
	}
	if got := lifetime(1 << 62); got != maxLifetime {
		t.Errorf("lifetime(1<<62) = %v, want %v", got, maxLifetime)
	}
}

// TestControlCharacterTokenRefused answers with tokens holding control
// characters: the grant fails once with ErrBadTokenAnswer, never quoting
// the token, and is not tried again.
func TestControlCharacterTokenRefused(t *testing.T) {
	for name, body := range map[string]string{
		"access":  `{"access_token":"ab\r\nX-Injected: 1","token_type":"Bearer","expires_in":300}`,
		"refresh": `{"access_token":"ok","token_type":"Bearer","expires_in":300,"refresh_token":"r\u0000x"}`,
		"space":   `{"access_token":"a b","token_type":"Bearer","expires_in":300}`,
	} {
		t.Run(name, func(t *testing.T) {
			s, grants := tokenEndpoint(t, body)
			p := newTestProvider(t, s.URL)
			_, err := p.Token(context.Background())
			if !errors.Is(err, ErrBadTokenAnswer) {
				t.Fatalf("Token error %v, want ErrBadTokenAnswer", err)
			}
			for _, secret := range []string{"X-Injected", "r\x00x", "a b", "pw"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes the answer", err)
				}
			}
			if _, err := p.Token(context.Background()); !errors.Is(err, ErrBadTokenAnswer) {
				t.Errorf("second Token error %v, want the same refusal", err)
			}
			if got := grants.Load(); got != 1 {
				t.Errorf("%d grants, want 1: the refusal is permanent", got)
			}
		})
	}
}

// TestRedirectOnSharedHost puts the identity provider on the service's
// host: a redirect to another path of that host is followed as a
// redirect, with no token renewal; only the login page counts as a
// refused token.
func TestRedirectOnSharedHost(t *testing.T) {
	f := newFixture(t, Config{})
	svc := newService(t, f.kc, func(w http.ResponseWriter, r *http.Request, valid bool) {
		switch {
		case !valid:
			unauthorized(w, r, false)
		case r.URL.Path == "/tile.tif":
			http.Redirect(w, r, "/mirror/tile.tif", http.StatusFound)
		default:
			io.WriteString(w, "ok")
		}
	})
	tr := &Transport{Source: f.p, Trusted: []string{svc.host()}, LoginHosts: []string{svc.host()}}
	client := &http.Client{Transport: tr}
	code, body, err := get(t, client, svc.URL+"/tile.tif")
	if err != nil || code != 200 || body != "ok" {
		t.Fatalf("got %d %q %v, want 200 ok through the redirect", code, body, err)
	}
	f.wantGrants(t, 1, 0, 0, 0)
	if auths, _ := svc.seen(); len(auths) != 2 {
		t.Errorf("service got %d requests, want 2 (the redirect and its target)", len(auths))
	}
}

// TestLifetimeForms answers with expires_in and refresh_expires_in as
// providers send them: whole numbers, fractions, strings, absurd values.
// The token is used as long as the answer says, clamped to maxLifetime and
// rounded up to a second; a lifetime that is no number is unknown (the
// token lives until refused), and never ends the login.
func TestLifetimeForms(t *testing.T) {
	tests := []struct {
		name        string
		expiresIn   string // JSON value
		wantAccess  time.Duration
		refreshIn   string
		wantRefresh time.Duration
	}{
		{"integer", `300`, 300 * time.Second, `1800`, 1800 * time.Second},
		{"fraction", `300.5`, 300500 * time.Millisecond, `1800.25`, 1800250 * time.Millisecond},
		{"exponent", `3e2`, 300 * time.Second, `0`, 0},
		{"string", `"300"`, 300 * time.Second, `"1800"`, 1800 * time.Second},
		{"string with fraction and blanks", `" 300.5 "`, 300500 * time.Millisecond, `"0"`, 0},
		{"null", `null`, 0, `null`, 0},
		{"negative", `-5`, 0, `"-1"`, 0},
		{"below a second", `0.001`, time.Second, `"0.5"`, time.Second},
		{"not a number", `"soon"`, 0, `true`, 0},
		{"NaN as a string", `"NaN"`, 0, `"-Inf"`, 0},
		{"huge", `1e300`, maxLifetime, `"9223372036854775808"`, maxLifetime},
		{"overflowing float", `1e999`, maxLifetime, `"Inf"`, maxLifetime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := tokenEndpoint(t, `{"access_token":"a1","token_type":"Bearer","expires_in":`+tt.expiresIn+
				`,"refresh_token":"r1","refresh_expires_in":`+tt.refreshIn+`}`)
			p := newTestProvider(t, s.URL)
			sent := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			p.now = func() time.Time { return sent }
			if _, err := p.Token(context.Background()); err != nil {
				t.Fatalf("Token: %v", err)
			}
			st := p.state.Load()
			var gotAccess, gotRefresh time.Duration
			if !st.renewAt.IsZero() {
				// renewAt is a margin (at most a tenth) before expiry.
				gotAccess = st.renewAt.Sub(sent)
				margin := min(DefaultMargin, tt.wantAccess/10)
				gotAccess += margin
			}
			if !st.refreshExpiry.IsZero() {
				gotRefresh = st.refreshExpiry.Sub(sent)
			}
			if gotAccess != tt.wantAccess {
				t.Errorf("access lifetime: got %v, want %v", gotAccess, tt.wantAccess)
			}
			if gotRefresh != tt.wantRefresh {
				t.Errorf("refresh lifetime: got %v, want %v", gotRefresh, tt.wantRefresh)
			}
		})
	}
}
