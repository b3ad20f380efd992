// Package fositetest runs a real OAuth2 authorization server, built from
// github.com/ory/fosite with in-memory storage, on loopback, so that wcdl's
// token handling is tested against an implementation of the RFCs that is
// not Keycloak and that nobody here wrote. It lives in the interop module so
// that fosite's dependencies never reach the main module.
package fositetest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"
)

// Default account and public client of a new Server.
const (
	Client   = "wcdl-test"
	User     = "fosite-user"
	Password = "fosite-Pw-3e9a1c"
)

// Stats counts the requests the server received, by endpoint and grant.
type Stats struct {
	PasswordGrants, RefreshGrants int64 // token requests, answered or refused
	FailedGrants                  int64 // token requests answered with an error
	Revocations                   int64 // requests to the revocation endpoint
	Discoveries                   int64 // requests for the discovery document
}

// TokenRequests returns PasswordGrants + RefreshGrants.
func (s Stats) TokenRequests() int64 { return s.PasswordGrants + s.RefreshGrants }

// Options configure a Server.
type Options struct {
	// AccessLifetime is the access token's lifetime (default an hour).
	AccessLifetime time.Duration
	// NoRefreshTokens makes the server issue access tokens only.
	NoRefreshTokens bool
	// Scopes lists the scopes the client may ask for (default "openid").
	Scopes []string
}

// A Server is fosite's token and revocation endpoints, and a discovery
// document naming them, on a loopback httptest.Server.
type Server struct {
	srv      *httptest.Server
	provider fosite.OAuth2Provider

	mu     sync.Mutex
	stats  Stats
	issued Issued
}

// Issued is what the server handed out in a successful token answer.
type Issued struct {
	AccessToken  string
	RefreshToken string // empty when the answer held none
}

// NewServer starts a server with one public client, Client, allowed the
// password and refresh grants, and one account, User with Password.
// Refresh tokens rotate: each refresh grant returns a new one and the old
// one is refused afterwards.
func NewServer(o Options) *Server {
	if o.AccessLifetime == 0 {
		o.AccessLifetime = time.Hour
	}
	if o.Scopes == nil {
		o.Scopes = []string{"openid"}
	}
	store := storage.NewMemoryStore()
	store.Clients[Client] = &fosite.DefaultClient{
		ID:         Client,
		Public:     true,
		GrantTypes: []string{"password", "refresh_token"},
		Scopes:     o.Scopes,
	}
	store.Users[User] = storage.MemoryUserRelation{Username: User, Password: Password}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	cfg := &fosite.Config{
		AccessTokenLifespan:  o.AccessLifetime,
		RefreshTokenLifespan: 24 * time.Hour,
		GlobalSecret:         secret,
		// Refresh tokens for every grant, not only for "offline".
		RefreshTokenScopes: []string{},
		ScopeStrategy:      fosite.ExactScopeStrategy,
	}
	if o.NoRefreshTokens {
		cfg.RefreshTokenScopes = []string{"offline_access"}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	s := &Server{provider: compose.ComposeAllEnabled(cfg, store, key)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", s.token)
	mux.HandleFunc("POST /oauth2/revoke", s.revoke)
	mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	s.srv = httptest.NewServer(mux)
	return s
}

// Issuer returns the issuer URL, whose discovery document names the
// token and revocation endpoints.
func (s *Server) Issuer() string { return s.srv.URL }

// TokenURL returns the token endpoint.
func (s *Server) TokenURL() string { return s.srv.URL + "/oauth2/token" }

// RevocationURL returns the RFC 7009 revocation endpoint.
func (s *Server) RevocationURL() string { return s.srv.URL + "/oauth2/revoke" }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Stats returns the request counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_ = r.ParseForm()
	switch r.PostForm.Get("grant_type") {
	case "password":
		s.count(func(st *Stats) { st.PasswordGrants++ })
	case "refresh_token":
		s.count(func(st *Stats) { st.RefreshGrants++ })
	}
	ar, err := s.provider.NewAccessRequest(ctx, r, &fosite.DefaultSession{Subject: r.PostForm.Get("username")})
	if err != nil {
		s.count(func(st *Stats) { st.FailedGrants++ })
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	for _, scope := range ar.GetRequestedScopes() {
		ar.GrantScope(scope)
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.count(func(st *Stats) { st.FailedGrants++ })
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	refresh, _ := resp.GetExtra("refresh_token").(string)
	s.mu.Lock()
	s.issued = Issued{AccessToken: resp.GetAccessToken(), RefreshToken: refresh}
	s.mu.Unlock()
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

// LastIssued returns the tokens of the last successful token answer, as a
// resource server or an administrator would see them on the server side.
func (s *Server) LastIssued() Issued {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	s.count(func(st *Stats) { st.Revocations++ })
	err := s.provider.NewRevocationRequest(r.Context(), r)
	s.provider.WriteRevocationResponse(r.Context(), w, err)
}

func (s *Server) discovery(w http.ResponseWriter, _ *http.Request) {
	s.count(func(st *Stats) { st.Discoveries++ })
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":                s.Issuer(),
		"token_endpoint":        s.TokenURL(),
		"revocation_endpoint":   s.RevocationURL(),
		"grant_types_supported": []string{"password", "refresh_token"},
	})
}

// Valid reports whether accessToken is an access token fosite issued and
// still honours, as a resource server would check it.
func (s *Server) Valid(accessToken string) bool {
	_, _, err := s.provider.IntrospectToken(context.Background(), accessToken, fosite.AccessToken, &fosite.DefaultSession{})
	return err == nil
}

// RevokeAccess is not supported: fosite revokes tokens one at a time, at
// its revocation endpoint. It exists so that a Server can stand in as the
// token checker of a fake download service; it does nothing.
func (s *Server) RevokeAccess() {}
