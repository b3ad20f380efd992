// Package keycloaktest runs a fake Keycloak token endpoint for tests,
// benchmarks and the built-in simulator, in the manner of net/http/httptest.
//
// The fake answers the OpenID Connect password and refresh grants and the
// logout endpoint of one realm with the status codes and error JSON that
// Keycloak sends, keeps exact counters, and follows an injectable clock.
package keycloaktest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Default settings of a new Server.
const (
	DefaultRealm    = "terrascope"
	DefaultClient   = "public"
	DefaultUser     = "demo"
	DefaultPassword = "demo-password"
)

// Stats counts what the fake has answered. Every counter is updated before
// the answer is written.
type Stats struct {
	// Received counts requests to the token endpoint as they arrive,
	// before any latency, hold or failure is applied.
	Received int64
	// PasswordGrants and RefreshGrants count successful grants.
	PasswordGrants, RefreshGrants int64
	// FailedPasswordGrants and FailedRefreshGrants count grants answered
	// with an error, including injected 503s.
	FailedPasswordGrants, FailedRefreshGrants int64
	// Logouts counts successful logouts.
	Logouts int64
	// LiveSessions is the number of sessions that have not been logged out.
	LiveSessions int64
	// Discoveries counts requests for the discovery document.
	Discoveries int64
}

// TokenRequests returns the number of password and refresh grants answered,
// successful or not.
func (s Stats) TokenRequests() int64 {
	return s.PasswordGrants + s.RefreshGrants + s.FailedPasswordGrants + s.FailedRefreshGrants
}

// An Option configures a Server.
type Option func(*Server)

// WithRealm sets the realm name (default "terrascope").
func WithRealm(realm string) Option { return func(s *Server) { s.realm = realm } }

// WithClient sets the only known public client id (default "public").
func WithClient(id string) Option { return func(s *Server) { s.client = id } }

// WithUser adds a user. Without any WithUser option the server knows
// DefaultUser with DefaultPassword.
func WithUser(name, password string) Option {
	return func(s *Server) { s.users[name] = password }
}

// WithAccessLifetime sets the access token lifetime (default 300 s).
func WithAccessLifetime(d time.Duration) Option { return func(s *Server) { s.accessLife = d } }

// WithRefreshLifetime sets the refresh token lifetime (default 3600 s).
// Zero issues refresh tokens with refresh_expires_in 0, as Keycloak does for
// offline tokens: valid until revoked.
func WithRefreshLifetime(d time.Duration) Option { return func(s *Server) { s.refreshLife = d } }

// WithRotation makes every refresh grant revoke the access and refresh
// token pair it replaces, like Keycloak's "Revoke Refresh Token" setting.
func WithRotation(on bool) Option { return func(s *Server) { s.rotation = on } }

// WithLatency delays every token and logout answer by d.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithClock sets the clock that decides token expiry (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithListener serves on l instead of a new listener on 127.0.0.1:0.
func WithListener(l net.Listener) Option { return func(s *Server) { s.listener = l } }

// WithOmitExpiresIn leaves expires_in out of successful answers.
func WithOmitExpiresIn() Option { return func(s *Server) { s.omitExpiresIn = true } }

// WithoutRefreshToken leaves refresh_token and refresh_expires_in out of
// successful answers.
func WithoutRefreshToken() Option { return func(s *Server) { s.noRefresh = true } }

// WithoutNewRefreshToken makes refresh grants answer without a
// refresh_token (and refresh_expires_in), as providers that keep one
// refresh token for the whole session do: the refresh token sent stays
// valid (RFC 6749 §6). Password grants still issue one.
func WithoutNewRefreshToken() Option { return func(s *Server) { s.keepRefresh = true } }

type session struct {
	id   string
	user string
}

type accessToken struct {
	sess    *session
	expires time.Time
}

type refreshToken struct {
	sess    *session
	expires time.Time // zero: no expiry
	access  string    // the access token issued with it
}

type waiter struct {
	cond func(Stats) bool
	ch   chan struct{}
}

// A Server is a fake Keycloak serving one realm over HTTP.
type Server struct {
	realm, client string
	users         map[string]string
	accessLife    time.Duration
	refreshLife   time.Duration
	rotation      bool
	latency       time.Duration
	now           func() time.Time
	listener      net.Listener
	omitExpiresIn bool
	noRefresh     bool
	keepRefresh   bool

	ts *httptest.Server

	mu       sync.Mutex
	stats    Stats
	failNext int
	hold     chan struct{} // non-nil while token requests are held
	sessions map[string]*session
	access   map[string]accessToken
	refresh  map[string]refreshToken
	waiters  []waiter
}

// NewServer starts a fake Keycloak configured by opts.
func NewServer(opts ...Option) *Server {
	s := &Server{
		realm:       DefaultRealm,
		client:      DefaultClient,
		users:       map[string]string{},
		accessLife:  300 * time.Second,
		refreshLife: 3600 * time.Second,
		now:         time.Now,
		sessions:    map[string]*session{},
		access:      map[string]accessToken{},
		refresh:     map[string]refreshToken{},
	}
	for _, o := range opts {
		o(s)
	}
	if len(s.users) == 0 {
		s.users[DefaultUser] = DefaultPassword
	}
	if s.listener != nil {
		s.ts = httptest.NewUnstartedServer(s)
		s.ts.Listener.Close()
		s.ts.Listener = s.listener
		s.ts.Start()
	} else {
		s.ts = httptest.NewServer(s)
	}
	return s
}

// URL returns the base URL, such as http://127.0.0.1:34567.
func (s *Server) URL() string { return s.ts.URL }

func (s *Server) issuerPath() string { return "/auth/realms/" + s.realm }

// Issuer returns the realm URL, which is the realm's OpenID issuer.
func (s *Server) Issuer() string { return s.ts.URL + s.issuerPath() }

func (s *Server) realmPath() string { return "/auth/realms/" + s.realm + "/protocol/openid-connect" }

// TokenURL returns the realm's token endpoint.
func (s *Server) TokenURL() string { return s.ts.URL + s.realmPath() + "/token" }

// LogoutURL returns the realm's logout endpoint.
func (s *Server) LogoutURL() string { return s.ts.URL + s.realmPath() + "/logout" }

// LoginURL returns the realm's interactive login page, where services
// redirect browsers that arrive without a valid token.
func (s *Server) LoginURL() string { return s.ts.URL + s.realmPath() + "/auth" }

// Close releases held requests and shuts the server down.
func (s *Server) Close() {
	s.mu.Lock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
	s.mu.Unlock()
	s.ts.Close()
}

// Valid reports whether accessToken was issued by this server and is neither
// expired nor revoked.
func (s *Server) Valid(accessToken string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.access[accessToken]
	return ok && s.now().Before(a.expires)
}

// RevokeAll revokes every access and refresh token now. Sessions stay
// alive; a refresh grant with a revoked token is answered 400 invalid_grant.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.access)
	clear(s.refresh)
}

// RevokeAccess revokes every access token now, as a download service does
// when it drops its token cache. Refresh tokens and sessions stay valid, so
// a client recovers with a refresh grant.
func (s *Server) RevokeAccess() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.access)
}

// FailNext answers the next n token requests with 503 Service Unavailable.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// Hold makes token requests wait, after they are counted in
// Stats.Received, until release is called. Release may be called more than
// once.
func (s *Server) Hold() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	s.hold = ch
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.hold == ch {
				close(ch)
				s.hold = nil
			}
			s.mu.Unlock()
		})
	}
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// WaitFor returns a channel that is closed as soon as cond holds for the
// counters, so tests can wait without sleeping.
func (s *Server) WaitFor(cond func(Stats) bool) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	if cond(s.stats) {
		close(ch)
		return ch
	}
	s.waiters = append(s.waiters, waiter{cond, ch})
	return ch
}

// update changes the counters and wakes waiters; s.mu must be held.
func (s *Server) update(f func(*Stats)) {
	f(&s.stats)
	kept := s.waiters[:0]
	for _, w := range s.waiters {
		if w.cond(s.stats) {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	s.waiters = kept
}

// ServeHTTP answers the realm's endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	base := s.realmPath()
	if !strings.HasPrefix(r.URL.Path, "/auth/realms/") {
		http.NotFound(w, r)
		return
	}
	if r.URL.Path == s.issuerPath()+"/.well-known/openid-configuration" {
		s.serveDiscovery(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, base+"/") {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Realm does not exist"})
		return
	}
	switch strings.TrimPrefix(r.URL.Path, base) {
	case "/token":
		s.serveToken(w, r)
	case "/logout":
		s.serveLogout(w, r)
	case "/auth":
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		_, _ = w.Write([]byte(loginPage))
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Unable to find matching target resource method"})
	}
}

const loginPage = `<!DOCTYPE html>
<html><head><title>Sign in to your account</title></head>
<body><form id="kc-form-login" method="post" action="login-actions/authenticate">
<input id="username" name="username" type="text"><input id="password" name="password" type="password">
<input type="submit" value="Sign In"></form></body></html>
`

func kcError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// delay applies the configured latency; it reports false if the client
// went away.
func (s *Server) delay(r *http.Request) bool {
	if s.latency <= 0 {
		return true
	}
	t := time.NewTimer(s.latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// parseForm checks method and content type the way Keycloak does.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "RESTEASY003650: No resource method found for " + r.Method + ", return 405 with Allow header"})
		return false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "RESTEASY003065: Cannot consume content type"})
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		kcError(w, http.StatusBadRequest, "invalid_request", "Malformed form")
		return false
	}
	return true
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.update(func(st *Stats) { st.Received++ })
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	if !s.delay(r) || !parseForm(w, r) {
		return
	}
	grant := r.PostForm.Get("grant_type")

	s.mu.Lock()
	defer s.mu.Unlock()
	fail := func(st *Stats) {
		switch grant {
		case "password":
			st.FailedPasswordGrants++
		case "refresh_token":
			st.FailedRefreshGrants++
		}
	}
	if s.failNext > 0 {
		s.failNext--
		s.update(fail)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"))
		return
	}
	if grant == "" {
		s.update(fail)
		kcError(w, http.StatusBadRequest, "invalid_request", "Missing form parameter: grant_type")
		return
	}
	if r.PostForm.Get("client_id") != s.client {
		s.update(fail)
		kcError(w, http.StatusUnauthorized, "invalid_client", "Invalid client or Invalid client credentials")
		return
	}
	now := s.now()
	switch grant {
	case "password":
		pw, ok := s.users[r.PostForm.Get("username")]
		if !ok || pw != r.PostForm.Get("password") {
			s.update(fail)
			kcError(w, http.StatusUnauthorized, "invalid_grant", "Invalid user credentials")
			return
		}
		sess := &session{id: randomString(18), user: r.PostForm.Get("username")}
		s.sessions[sess.id] = sess
		body := s.issue(sess, now, r.PostForm.Get("scope"), true)
		s.update(func(st *Stats) { st.PasswordGrants++; st.LiveSessions = int64(len(s.sessions)) })
		writeJSON(w, http.StatusOK, body)
	case "refresh_token":
		old := r.PostForm.Get("refresh_token")
		rt, ok := s.refresh[old]
		if ok && !rt.expires.IsZero() && !now.Before(rt.expires) {
			delete(s.refresh, old)
			ok = false
		}
		if ok && s.sessions[rt.sess.id] == nil {
			ok = false
		}
		if !ok {
			s.update(fail)
			kcError(w, http.StatusBadRequest, "invalid_grant", "Token is not active")
			return
		}
		if s.rotation {
			delete(s.access, rt.access)
			if !s.keepRefresh {
				delete(s.refresh, old)
			}
		}
		body := s.issue(rt.sess, now, r.PostForm.Get("scope"), !s.keepRefresh)
		if s.keepRefresh {
			rt.access = body.AccessToken
			s.refresh[old] = rt
		}
		s.update(func(st *Stats) { st.RefreshGrants++ })
		writeJSON(w, http.StatusOK, body)
	default:
		s.update(fail)
		kcError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant_type")
	}
}

// answer is a successful token answer, with the fields in Keycloak's
// order.
type answer struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        *int64 `json:"expires_in,omitempty"`
	RefreshExpiresIn *int64 `json:"refresh_expires_in,omitempty"`
	RefreshToken     string `json:"refresh_token,omitempty"`
	TokenType        string `json:"token_type"`
	NotBeforePolicy  int    `json:"not-before-policy"`
	SessionState     string `json:"session_state"`
	Scope            string `json:"scope"`
}

// issue creates an access token for sess, and a refresh token with it if
// withRefresh, and returns the answer body. s.mu must be held.
func (s *Server) issue(sess *session, now time.Time, scope string, withRefresh bool) answer {
	if scope == "" {
		scope = "profile email"
	}
	at := randomString(600)
	s.access[at] = accessToken{sess: sess, expires: now.Add(s.accessLife)}
	a := answer{AccessToken: at, TokenType: "Bearer", SessionState: sess.id, Scope: scope}
	if !s.omitExpiresIn {
		n := int64(s.accessLife / time.Second)
		a.ExpiresIn = &n
	}
	if !s.noRefresh && withRefresh {
		rt := randomString(300)
		var exp time.Time
		if s.refreshLife > 0 {
			exp = now.Add(s.refreshLife)
		}
		s.refresh[rt] = refreshToken{sess: sess, expires: exp, access: at}
		n := int64(s.refreshLife / time.Second)
		a.RefreshToken, a.RefreshExpiresIn = rt, &n
	}
	return a
}

func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	if !s.delay(r) || !parseForm(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.PostForm.Get("client_id") != s.client {
		kcError(w, http.StatusUnauthorized, "invalid_client", "Invalid client or Invalid client credentials")
		return
	}
	rt, ok := s.refresh[r.PostForm.Get("refresh_token")]
	if !ok || s.sessions[rt.sess.id] == nil {
		kcError(w, http.StatusBadRequest, "invalid_grant", "Invalid refresh token")
		return
	}
	delete(s.sessions, rt.sess.id)
	for k, v := range s.refresh {
		if v.sess == rt.sess {
			delete(s.refresh, k)
		}
	}
	for k, v := range s.access {
		if v.sess == rt.sess {
			delete(s.access, k)
		}
	}
	s.update(func(st *Stats) { st.Logouts++; st.LiveSessions = int64(len(s.sessions)) })
	w.WriteHeader(http.StatusNoContent)
}

// randomString returns a random URL-safe string of about n characters.
func randomString(n int) string {
	b := make([]byte, n*3/4)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// serveDiscovery answers the realm's discovery document with the endpoints
// the fake serves.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "RESTEASY003650: No resource method found for POST, return 405 with Allow header"})
		return
	}
	s.mu.Lock()
	s.update(func(st *Stats) { st.Discoveries++ })
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                 s.Issuer(),
		"authorization_endpoint": s.LoginURL(),
		"token_endpoint":         s.TokenURL(),
		"end_session_endpoint":   s.LogoutURL(),
		"grant_types_supported":  []string{"authorization_code", "implicit", "refresh_token", "password", "client_credentials"},
	})
}
