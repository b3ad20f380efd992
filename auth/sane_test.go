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
