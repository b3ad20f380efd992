package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/wcdl/wcdl/auth/keycloaktest"
)

func TestKeycloakIssuer(t *testing.T) {
	tests := map[string]string{
		"https://sso.terrascope.be/auth/realms/terrascope/protocol/openid-connect/token":          "https://sso.terrascope.be/auth/realms/terrascope",
		"https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token": "https://identity.dataspace.copernicus.eu/auth/realms/CDSE",
		"https://kc.example/realms/r/protocol/openid-connect/token":                               "https://kc.example/realms/r",
		"https://idp.example/oauth2/token":                                                        "",
		"https://kc.example/realms/r/protocol/openid-connect/token?x=1":                           "",
		"not a url": "",
	}
	for in, want := range tests {
		if got := KeycloakIssuer(in); got != want {
			t.Errorf("KeycloakIssuer(%q) = %q, want %q", in, got, want)
		}
	}
}

// docServer serves doc as a discovery document at its issuer URL.
func docServer(t *testing.T, doc func(base string) map[string]string) string {
	t.Helper()
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/issuer/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc(base))
	}))
	t.Cleanup(srv.Close)
	base = srv.URL
	return srv.URL + "/issuer"
}

func TestDiscover(t *testing.T) {
	t.Run("Keycloak", func(t *testing.T) {
		kc := keycloaktest.NewServer()
		t.Cleanup(kc.Close)
		d, err := Discover(context.Background(), nil, KeycloakIssuer(kc.TokenURL()))
		if err != nil {
			t.Fatal(err)
		}
		if d.TokenEndpoint != kc.TokenURL() || d.EndSessionEndpoint != kc.LogoutURL() || d.Issuer != kc.Issuer() {
			t.Errorf("got %+v, want the fake's token and logout URLs", d)
		}
		if end := d.SessionEnd(kc.TokenURL()); end.LogoutURL != kc.LogoutURL() || end.RevocationURL != "" {
			t.Errorf("SessionEnd = %+v, want Keycloak's logout", end)
		}
		if got := kc.Stats().Discoveries; got != 1 {
			t.Errorf("discovery requests: got %d, want 1", got)
		}
	})
	tests := []struct {
		name    string
		doc     func(base string) map[string]string
		wantErr string
	}{
		{"other issuer", func(base string) map[string]string {
			return map[string]string{"issuer": "https://evil.example/issuer", "token_endpoint": base + "/token"}
		}, "names issuer"},
		{"plain http endpoint", func(base string) map[string]string {
			return map[string]string{"issuer": base + "/issuer", "token_endpoint": "http://idp.example/token"}
		}, "plain http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := docServer(t, tt.doc)
			_, err := Discover(context.Background(), nil, iss)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
	t.Run("no document", func(t *testing.T) {
		iss := docServer(t, nil)
		if _, err := Discover(context.Background(), nil, iss+"/elsewhere"); err == nil || !strings.Contains(err.Error(), "404") {
			t.Errorf("got %v, want a 404 error", err)
		}
	})
}

// sessionEndpoint is a provider whose token endpoint issues refresh tokens
// and which records what reaches its revocation and logout paths.
type sessionEndpoint struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits map[string][]url.Values // by path
}

func newSessionEndpoint(t *testing.T) *sessionEndpoint {
	t.Helper()
	e := &sessionEndpoint{hits: map[string][]url.Values{}}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		e.mu.Lock()
		e.hits[r.URL.Path] = append(e.hits[r.URL.Path], r.PostForm)
		e.mu.Unlock()
		if r.URL.Path == "/oauth2/token" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer","expires_in":300,"refresh_token":"rt-secret"}`))
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *sessionEndpoint) paths() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int{}
	for p, v := range e.hits {
		out[p] = len(v)
	}
	return out
}

// TestCloseEndsSessionAsAdvertised: Close revokes the refresh token where
// a revocation endpoint is advertised, and sends nothing where neither it
// nor Keycloak's logout is known; it never guesses a logout path.
func TestCloseEndsSessionAsAdvertised(t *testing.T) {
	tests := []struct {
		name      string
		end       func(base string) *SessionEnd
		wantPaths map[string]int
	}{
		{"revocation advertised", func(base string) *SessionEnd { return &SessionEnd{RevocationURL: base + "/oauth2/revoke"} }, map[string]int{"/oauth2/token": 1, "/oauth2/revoke": 1}},
		{"neither advertised", func(string) *SessionEnd { return &SessionEnd{} }, map[string]int{"/oauth2/token": 1}},
		{"no discovery, not Keycloak", func(string) *SessionEnd { return nil }, map[string]int{"/oauth2/token": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSessionEndpoint(t)
			p, err := NewProvider(Config{TokenURL: e.srv.URL + "/oauth2/token", ClientID: "c", Credentials: Credentials{Username: "u", Password: testPassword}, SessionEnd: tt.end(e.srv.URL)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Token(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := p.Close(context.Background()); err != nil {
				t.Fatalf("Close: %v", err)
			}
			got := e.paths()
			if len(got) != len(tt.wantPaths) {
				t.Errorf("requests by path: got %v, want %v", got, tt.wantPaths)
			}
			for path, n := range tt.wantPaths {
				if got[path] != n {
					t.Errorf("requests by path: got %v, want %v", got, tt.wantPaths)
				}
			}
			if revs := e.hits["/oauth2/revoke"]; len(revs) == 1 {
				if f := revs[0]; f.Get("token") != "rt-secret" || f.Get("token_type_hint") != "refresh_token" || f.Get("client_id") != "c" {
					t.Errorf("revocation form: got %v, want the refresh token, its hint and the client id", f)
				}
			}
		})
	}
}
