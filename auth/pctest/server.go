package pctest

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Azurite's well-known development account and key, published in its
// documentation; they sign tokens that Azurite accepts.
const (
	DevAccount = "devstoreaccount1"
	DevKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Options configure a Server. The zero value serves Azurite's development
// account, every container, tokens valid for an hour on the real clock.
type Options struct {
	// Account and Key sign the tokens; DevAccount and DevKey if empty.
	Account, Key string
	// Containers, if not empty, are the only containers with tokens;
	// others get 404, as the real endpoint answers for unknown datasets.
	Containers []string
	// Lifetime is how long a token is valid; an hour if zero.
	Lifetime time.Duration
	// Now is the clock for expiries and the Date header; time.Now if nil.
	Now func() time.Time
	// SubscriptionKey, if not empty, must come in Ocp-Apim-Subscription-Key;
	// a request without it, or with another, gets 401.
	SubscriptionKey string
	// Spoil, if not nil, says how to spoil the n-th token issued (1, 2,
	// ...) while its msft:expiry still promises the full lifetime, as a
	// revoked key or a skewed clock would: the blob service refuses it.
	Spoil func(n int64) Spoil
	// Listener, if not nil, is where the server accepts connections; a
	// free loopback port if nil.
	Listener net.Listener
}

// A Spoil is a way a token can be unusable.
type Spoil int

// Ways to spoil a token.
const (
	Good    Spoil = iota
	Expired       // signed with an expiry a minute ago
	Forged        // its signature altered
)

// A Server is a fake SAS token endpoint on loopback:
// GET {URL}/{account}/{container} answers
// {"msft:expiry": RFC 3339, "token": "sv=...&se=...&sig=..."}.
type Server struct {
	// URL is the API root, to pass as the token URL.
	URL string

	opts Options
	srv  *httptest.Server

	requests atomic.Int64
	seq      atomic.Int64 // tokens signed
	mu       sync.Mutex
	throttle []int // Retry-After seconds of the next 429 answers
	keys     []string
	issued   []string
}

// NewServer starts a Server; Close stops it.
func NewServer(opts Options) *Server {
	if opts.Account == "" {
		opts.Account, opts.Key = DevAccount, DevKey
	}
	if opts.Lifetime == 0 {
		opts.Lifetime = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if opts.Listener != nil {
		s.srv.Listener.Close()
		s.srv.Listener = opts.Listener
	}
	s.srv.Start()
	s.URL = s.srv.URL + "/api/sas/v1/token"
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Requests counts the token requests received, answered or not.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Throttle makes the next answers 429 with the given Retry-After seconds,
// one answer per value.
func (s *Server) Throttle(retryAfter ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = append(s.throttle, retryAfter...)
}

// SubscriptionKeys returns the Ocp-Apim-Subscription-Key of every request,
// in order ("" when absent).
func (s *Server) SubscriptionKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys...)
}

// Issued returns every token handed out, in order.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	now := s.opts.Now()
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	key := r.Header.Get("Ocp-Apim-Subscription-Key")
	s.mu.Lock()
	s.keys = append(s.keys, key)
	var wait = -1
	if len(s.throttle) > 0 {
		wait, s.throttle = s.throttle[0], s.throttle[1:]
	}
	s.mu.Unlock()
	if wait >= 0 {
		w.Header().Set("Retry-After", strconv.Itoa(wait))
		http.Error(w, `{"detail":"rate limited"}`, http.StatusTooManyRequests)
		return
	}
	if s.opts.SubscriptionKey != "" && key != s.opts.SubscriptionKey {
		http.Error(w, `{"detail":"invalid subscription key"}`, http.StatusUnauthorized)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/sas/v1/token/")
	account, container, two := strings.Cut(rest, "/")
	if !ok || !two || r.Method != http.MethodGet || strings.Contains(container, "/") {
		http.NotFound(w, r)
		return
	}
	if account != s.opts.Account || (len(s.opts.Containers) > 0 && !slices.Contains(s.opts.Containers, container)) {
		http.Error(w, `{"detail":"unknown storage account or container"}`, http.StatusNotFound)
		return
	}
	// The start is back-dated by 15 minutes, as Azure advises against clock
	// skew, and by a second more for each token issued, so that no two
	// tokens are alike even on a clock that stands still.
	expiry, signed := now.Add(s.opts.Lifetime), now.Add(s.opts.Lifetime)
	n := s.seq.Add(1)
	spoil := Good
	if s.opts.Spoil != nil {
		spoil = s.opts.Spoil(n)
	}
	if spoil == Expired {
		signed = now.Add(-time.Minute)
	}
	start := now.Add(-15*time.Minute - time.Duration(n)*time.Second)
	tok, err := ContainerSAS(account, s.opts.Key, container, "rl", start, signed)
	if spoil == Forged {
		tok = strings.Replace(tok, "sig=", "sig=AAAA", 1)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	s.issued = append(s.issued, tok)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"msft:expiry": expiry.UTC().Format(time.RFC3339), "token": tok})
}
