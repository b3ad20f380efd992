package auth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wcdl/wcdl/auth/keycloaktest"
)

// service is a fake download service that checks bearer tokens with the
// fake Keycloak and records the Authorization headers it receives.
type service struct {
	*httptest.Server
	mu      sync.Mutex
	auths   []string
	bodies  []string
	handler func(w http.ResponseWriter, r *http.Request, valid bool)
}

func newService(t *testing.T, kc *keycloaktest.Server, handler func(w http.ResponseWriter, r *http.Request, valid bool)) *service {
	s := &service{handler: handler}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		auth := r.Header.Get("Authorization")
		s.mu.Lock()
		s.auths = append(s.auths, auth)
		s.bodies = append(s.bodies, string(body))
		s.mu.Unlock()
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		s.handler(w, r, ok && kc != nil && kc.Valid(tok))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *service) host() string { u, _ := url.Parse(s.URL); return u.Host }

func (s *service) seen() (auths, bodies []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auths...), append([]string(nil), s.bodies...)
}

// unauthorized answers 401 to requests without a valid token, else 200 "ok".
func unauthorized(w http.ResponseWriter, _ *http.Request, valid bool) {
	if !valid {
		w.Header().Set("WWW-Authenticate", `Bearer realm="terrascope"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	_, _ = io.WriteString(w, "ok")
}

func get(t *testing.T, c *http.Client, u string) (int, string, error) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestTransportTrustedHostsOnly(t *testing.T) {
	f := newFixture(t, Config{})
	other := newService(t, nil, func(w http.ResponseWriter, _ *http.Request, _ bool) { _, _ = io.WriteString(w, "other") })
	svc := newService(t, f.kc, func(w http.ResponseWriter, r *http.Request, valid bool) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, other.URL+"/mirror/tile.tif", http.StatusFound)
			return
		}
		unauthorized(w, r, valid)
	})
	client := &http.Client{Transport: &Transport{Source: f.p, Trusted: []string{svc.host()}}}

	tests := []struct {
		name, url, wantBody string
	}{
		{"trusted host", svc.URL + "/tile.tif", "ok"},
		{"untrusted host", other.URL + "/tile.tif", "other"},
		{"redirect to an untrusted host", svc.URL + "/redirect", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, err := get(t, client, tt.url)
			if err != nil || code != 200 || body != tt.wantBody {
				t.Errorf("got %d %q %v, want 200 %q", code, body, err, tt.wantBody)
			}
		})
	}
	auths, _ := other.seen()
	if len(auths) != 2 {
		t.Fatalf("untrusted host got %d requests, want 2", len(auths))
	}
	for i, a := range auths {
		if a != "" {
			t.Errorf("untrusted request %d carried an Authorization header", i)
		}
	}
	auths, _ = svc.seen()
	for i, a := range auths {
		if !strings.HasPrefix(a, "Bearer ") {
			t.Errorf("trusted request %d: got Authorization %q, want a bearer token", i, strings.Fields(a + " x")[0])
		}
	}
}

func TestTransportLeavesCallerRequestAlone(t *testing.T) {
	f := newFixture(t, Config{})
	svc := newService(t, f.kc, unauthorized)
	tr := &Transport{Source: f.p, Trusted: []string{svc.host()}}
	req, err := http.NewRequest(http.MethodGet, svc.URL+"/tile.tif", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Trace", "1")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("got %d, want 200", resp.StatusCode)
	}
	if got := req.Header.Get("Authorization"); got != "" || len(req.Header) != 1 {
		t.Errorf("caller's request changed: headers %v", req.Header)
	}
}

func TestHostMatching(t *testing.T) {
	tr := &Transport{Trusted: []string{"download.example.org", "LOCAL.test:8443"}}
	tests := []struct {
		url  string
		want bool
	}{
		{"https://download.example.org/x", true},
		{"https://Download.Example.org/x", true},
		{"https://download.example.org:443/x", true},
		{"http://download.example.org:80/x", false}, // plain http: never
		{"https://download.example.org:8443/x", false},
		{"https://download.example.org.evil.test/x", false},
		{"https://local.test:8443/x", true},
		{"https://local.test/x", false},
		{"https://evil.test/download.example.org", false},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.url)
		if got := tr.trusted(u); got != tt.want {
			t.Errorf("trusted(%s): got %v, want %v", tt.url, got, tt.want)
		}
	}
}

func TestTransportRefreshesOnRefusal(t *testing.T) {
	tests := []struct {
		name string
		// refuse answers a request whose token the fake Keycloak no
		// longer accepts.
		refuse     func(kc *keycloaktest.Server, login *httptest.Server) func(http.ResponseWriter, *http.Request)
		loginHosts func(login *httptest.Server) []string
	}{
		{"401", func(*keycloaktest.Server, *httptest.Server) func(http.ResponseWriter, *http.Request) {
			return func(w http.ResponseWriter, r *http.Request) { unauthorized(w, r, false) }
		}, nil},
		{"redirect to the login page", func(kc *keycloaktest.Server, _ *httptest.Server) func(http.ResponseWriter, *http.Request) {
			return func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, kc.LoginURL()+"?client_id=public&redirect_uri=x", http.StatusFound)
			}
		}, nil},
		{"redirect to a login host", func(_ *keycloaktest.Server, login *httptest.Server) func(http.ResponseWriter, *http.Request) {
			return func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, login.URL+"/sso/start", http.StatusSeeOther)
			}
		}, func(login *httptest.Server) []string { u, _ := url.Parse(login.URL); return []string{u.Host} }},
		{"redirect to the token host, derived from the provider", func(kc *keycloaktest.Server, _ *httptest.Server) func(http.ResponseWriter, *http.Request) {
			return func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, kc.URL()+"/auth/realms/terrascope/broker/start", http.StatusFound)
			}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{})
			login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "<html>login</html>") }))
			defer login.Close()
			refuse := tt.refuse(f.kc, login)
			svc := newService(t, f.kc, func(w http.ResponseWriter, r *http.Request, valid bool) {
				if !valid {
					refuse(w, r)
					return
				}
				_, _ = io.WriteString(w, "ok")
			})
			tr := &Transport{Source: f.p, Trusted: []string{svc.host()}}
			if tt.loginHosts != nil {
				tr.LoginHosts = tt.loginHosts(login)
			}
			client := &http.Client{Transport: tr}
			old := f.token(t)
			f.kc.RevokeAll()
			code, body, err := get(t, client, svc.URL+"/tile.tif")
			if err != nil || code != 200 || body != "ok" {
				t.Errorf("got %d %q %v, want 200 ok after one renewal", code, body, err)
			}
			if auths, _ := svc.seen(); len(auths) != 2 || auths[0] != "Bearer "+old || auths[1] == auths[0] {
				t.Errorf("service got %d requests, want the old token then a new one", len(auths))
			}
			f.wantGrants(t, 2, 0, 0, 1)
		})
	}
}

func TestTransportReplaysBody(t *testing.T) {
	f := newFixture(t, Config{})
	svc := newService(t, f.kc, unauthorized)
	tr := &Transport{Source: f.p, Trusted: []string{svc.host()}}
	f.token(t)
	f.kc.RevokeAll()

	req, _ := http.NewRequest(http.MethodPost, svc.URL+"/search", strings.NewReader("bbox=1,2,3,4"))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, bodies := svc.seen(); resp.StatusCode != 200 || len(bodies) != 2 || bodies[0] != bodies[1] || bodies[1] != "bbox=1,2,3,4" {
		t.Errorf("got %d, bodies %q; want 200 and the body sent twice", resp.StatusCode, bodies)
	}

	// Without GetBody the body cannot be sent again: the 401 is returned.
	f.kc.RevokeAll()
	req, _ = http.NewRequest(http.MethodPost, svc.URL+"/search", io.NopCloser(strings.NewReader("x")))
	resp, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if auths, _ := svc.seen(); resp.StatusCode != 401 || len(auths) != 3 {
		t.Errorf("got %d after %d requests, want 401 after 3", resp.StatusCode, len(auths))
	}
}

// closeTracker records whether a response body was closed.
type closeTracker struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeTracker) Close() error { c.closed.Store(true); return nil }

func TestTransportSecondRefusal(t *testing.T) {
	f := newFixture(t, Config{})
	var bodies []*closeTracker
	var auths []string
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		b := &closeTracker{Reader: strings.NewReader("denied")}
		bodies = append(bodies, b)
		auths = append(auths, r.Header.Get("Authorization"))
		return &http.Response{StatusCode: 401, Status: "401 Unauthorized", Body: b, Request: r}, nil
	})
	tr := &Transport{Source: f.p, Trusted: []string{"svc.test"}, Base: base}
	req, _ := http.NewRequest(http.MethodGet, "https://svc.test/tile.tif", nil)
	resp, err := tr.RoundTrip(req)
	if resp != nil || !errors.Is(err, ErrTokenRefused) {
		t.Fatalf("got %v, %v; want an error wrapping ErrTokenRefused", resp, err)
	}
	if len(bodies) != 2 || !bodies[0].closed.Load() || !bodies[1].closed.Load() {
		t.Errorf("got %d requests, bodies closed: want 2 requests and both bodies closed", len(bodies))
	}
	if auths[0] == auths[1] {
		t.Errorf("the replay reused the refused token")
	}
	f.wantGrants(t, 1, 1, 0, 0)
}

// failingSource is a TokenSource whose Token always fails.
type failingSource struct{ calls atomic.Int32 }

func (s *failingSource) Token(context.Context) (string, error) {
	s.calls.Add(1)
	return "", ErrBadCredentials
}

func (s *failingSource) Refused(context.Context, string) (string, error) {
	return "", errors.New("Refused must not be called")
}

func TestTransportTokenError(t *testing.T) {
	src := &failingSource{}
	var sent atomic.Int32
	base := roundTripFunc(func(*http.Request) (*http.Response, error) { sent.Add(1); return nil, errors.New("must not send") })
	client := &http.Client{Transport: &Transport{Source: src, Base: base, Trusted: []string{"svc.test"}}, Timeout: time.Minute}
	_, err := client.Get("https://svc.test/tile.tif")
	if !errors.Is(err, ErrBadCredentials) {
		t.Errorf("got %v, want an error wrapping ErrBadCredentials", err)
	}
	if src.calls.Load() != 1 || sent.Load() != 0 {
		t.Errorf("got %d Token calls and %d requests, want 1 and 0", src.calls.Load(), sent.Load())
	}
}

func TestRotationNoChain(t *testing.T) {
	// The fake's clock runs ahead of the provider's, so access tokens
	// expire at the service while the provider still holds them: every
	// worker is refused at once, and each refresh revokes the pair it
	// replaces.
	clock := keycloaktest.NewClock(t0)
	kcClock := keycloaktest.NewClock(t0)
	kc := keycloaktest.NewServer(keycloaktest.WithRotation(true), keycloaktest.WithClock(kcClock.Now), keycloaktest.WithUser(testUser, testPassword))
	defer kc.Close()
	p, err := NewProvider(Config{TokenURL: kc.TokenURL(), ClientID: keycloaktest.DefaultClient,
		Credentials: Credentials{Username: testUser, Password: testPassword}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc := newService(t, kc, unauthorized)
	client := &http.Client{Transport: &Transport{Source: p, Trusted: []string{svc.host()}}}
	for round := range 3 {
		if round > 0 {
			kcClock.Advance(301 * time.Second)
		}
		for i, err := range run(32, func(int) error {
			code, _, err := get(t, client, svc.URL+"/tile.tif")
			if err == nil && code != 200 {
				err = errors.New(http.StatusText(code))
			}
			return err
		}) {
			if err != nil {
				t.Fatalf("round %d worker %d: %v", round, i, err)
			}
		}
		if st := kc.Stats(); st.PasswordGrants != 1 || st.RefreshGrants != int64(round) || st.FailedRefreshGrants != 0 {
			t.Fatalf("round %d: got %+v, want 1 password grant and %d refresh grants", round, st, round)
		}
	}
}

// recordingRoundTripper answers 200 to every request and keeps its
// Authorization header; no request leaves the process.
type recordingRoundTripper struct{ auth []string }

func (r *recordingRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("ok")), Header: http.Header{}, Request: req}, nil
}

// TestTransportNoTokenOverPlainHTTP: a trusted host gets the token over
// https only; over plain http only a loopback host does.
func TestTransportNoTokenOverPlainHTTP(t *testing.T) {
	f := newFixture(t, Config{})
	tests := []struct {
		url       string
		wantToken bool
	}{
		{"https://data.example.org/tile.tif", true},
		{"http://data.example.org/tile.tif", false},
		{"http://data.example.org:443/tile.tif", false},
		{"http://127.0.0.1:8080/tile.tif", true},
	}
	for _, tt := range tests {
		rec := &recordingRoundTripper{}
		tr := &Transport{Source: f.p, Base: rec, Trusted: []string{"data.example.org", "127.0.0.1:8080", "data.example.org:443"}}
		req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		resp.Body.Close()
		if got := strings.HasPrefix(rec.auth[0], "Bearer "); got != tt.wantToken {
			t.Errorf("%s: sent a token: %v, want %v", tt.url, got, tt.wantToken)
		}
	}
}
