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
	"testing"
	"time"

	"github.com/wcdl/wcdl/auth/keycloaktest"
	"github.com/wcdl/wcdl/auth/pctest"
)

const testContainer = "esa-worldcover"

// newSAS returns a fake token endpoint and a SASSource on one manual clock.
func newSAS(t *testing.T, opts pctest.Options, cfg SASConfig) (*pctest.Server, *SASSource, *keycloaktest.Clock) {
	t.Helper()
	clock := keycloaktest.NewClock(t0)
	opts.Now = clock.Now
	pc := pctest.NewServer(opts)
	t.Cleanup(pc.Close)
	cfg.TokenURL, cfg.Now = pc.URL, clock.Now
	if cfg.Backoff == nil {
		cfg.Backoff = func(int) time.Duration { return time.Millisecond }
	}
	src, err := NewSASSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return pc, src, clock
}

// sasExpiry reads the se (signed expiry) of a SAS token.
func sasExpiry(t *testing.T, tok string) time.Time {
	t.Helper()
	q, err := url.ParseQuery(tok)
	if err != nil {
		t.Fatalf("token is not a query: %v", err)
	}
	se, err := time.Parse(time.RFC3339, q.Get("se"))
	if err != nil {
		t.Fatalf("token's se: %v", err)
	}
	return se
}

// TestSASTokenRequestsOverARun simulates a two-minute run of 8 workers
// with 20 s tokens on a manual clock: every token handed out is still
// valid, and all workers together cost at most run/(lifetime/2)+3 token
// requests.
func TestSASTokenRequestsOverARun(t *testing.T) {
	const (
		lifetime = 20 * time.Second
		run      = 2 * time.Minute
		step     = 250 * time.Millisecond
		workers  = 8
	)
	pc, src, clock := newSAS(t, pctest.Options{Lifetime: lifetime}, SASConfig{})
	for elapsed := time.Duration(0); elapsed <= run; elapsed += step {
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Go(func() {
				tok, err := src.Token(t.Context(), pctest.DevAccount, testContainer)
				if err != nil {
					errs <- err
					return
				}
				if se := sasExpiry(t, tok); !se.After(clock.Now()) {
					errs <- errors.New("handed out a token that expired at " + se.String())
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("at %v: %v", elapsed, err)
		}
		clock.Advance(step)
	}
	limit := int64(run/(lifetime/2)) + 3
	got := pc.Requests()
	t.Logf("%d token requests for %d workers over %v with %v tokens (limit %d)", got, workers, run, lifetime, limit)
	if got > limit {
		t.Errorf("token requests: got %d, want at most %d", got, limit)
	}
	if got < int64(run/lifetime) {
		t.Errorf("token requests: got %d, want at least %d (one per lifetime)", got, run/lifetime)
	}
	if s := src.Stats(); s.SASRequests != got || s.TokenRequests() != got {
		t.Errorf("Stats: got %+v, want %d SAS requests", s, got)
	}
}

// TestSASOneRequestForManyCallers: callers that need the same container's
// first token share one request; another container gets its own.
func TestSASOneRequestForManyCallers(t *testing.T) {
	pc, src, _ := newSAS(t, pctest.Options{}, SASConfig{})
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if _, err := src.Token(t.Context(), pctest.DevAccount, testContainer); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := pc.Requests(); got != 1 {
		t.Errorf("token requests for one container: got %d, want 1", got)
	}
	a, _ := src.Token(t.Context(), pctest.DevAccount, testContainer)
	b, err := src.Token(t.Context(), pctest.DevAccount, "other")
	if err != nil {
		t.Fatal(err)
	}
	if got := pc.Requests(); got != 2 || a == b {
		t.Errorf("a second container: got %d requests (same token: %v), want 2 and another token", got, a == b)
	}
}

// TestSASRefusedRenewsOnce: a refusal of the current token renews it once
// for every caller that reports it; a refusal of a replaced token costs
// no request.
func TestSASRefusedRenewsOnce(t *testing.T) {
	pc, src, _ := newSAS(t, pctest.Options{}, SASConfig{})
	old, err := src.Token(t.Context(), pctest.DevAccount, testContainer)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	news := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			tok, err := src.Refused(t.Context(), pctest.DevAccount, testContainer, old)
			if err != nil {
				t.Error(err)
			}
			news <- tok
		})
	}
	wg.Wait()
	close(news)
	for tok := range news {
		if tok == old {
			t.Errorf("Refused handed out the refused token")
		}
	}
	if got := pc.Requests(); got != 2 {
		t.Errorf("token requests: got %d, want 2 (the first, one renewal)", got)
	}
}

// TestSASThrottled: 429 answers are retried after their Retry-After,
// capped at MaxWait.
func TestSASThrottled(t *testing.T) {
	var mu sync.Mutex
	var waits []time.Duration
	sleep := func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		return nil
	}
	pc, src, _ := newSAS(t, pctest.Options{}, SASConfig{Sleep: sleep, MaxWait: time.Minute})
	pc.Throttle(7, 100000)
	if _, err := src.Token(t.Context(), pctest.DevAccount, testContainer); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{7 * time.Second, time.Minute}
	if got := pc.Requests(); got != 3 || len(waits) != 2 || waits[0] != want[0] || waits[1] != want[1] {
		t.Errorf("got %d requests and waits %v, want 3 requests and waits %v", got, waits, want)
	}
}

// TestSASEndpointFailures: answers that no retry cures stop the
// container's token requests for the run, and say what to check without
// quoting the subscription key.
func TestSASEndpointFailures(t *testing.T) {
	const key = "subscription-key-0d6b2f-never-print"
	tests := []struct {
		name      string
		opts      pctest.Options
		cfg       SASConfig
		container string
		wantIs    []error
		wantIn    string
		wantReqs  int64
	}{
		{"wrong subscription key", pctest.Options{SubscriptionKey: "another"}, SASConfig{SubscriptionKey: key}, testContainer,
			[]error{ErrLoginFailed}, "WCDL_PC_SUBSCRIPTION_KEY", 1},
		{"unknown container", pctest.Options{Containers: []string{testContainer}}, SASConfig{}, "nothing-here",
			[]error{ErrContainerRefused}, "no SAS token for devstoreaccount1/nothing-here", 1},
		{"always throttled", pctest.Options{}, SASConfig{MaxAttempts: 2, Sleep: func(context.Context, time.Duration) error { return nil }}, testContainer,
			[]error{ErrLoginFailed, ErrTokenEndpointUnavailable}, "429", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc, src, _ := newSAS(t, tt.opts, tt.cfg)
			if tt.name == "always throttled" {
				pc.Throttle(1, 1, 1, 1, 1, 1)
			}
			for range 3 {
				_, err := src.Token(t.Context(), pctest.DevAccount, tt.container)
				if errors.Is(err, ErrContainerRefused) && errors.Is(err, ErrLoginFailed) {
					t.Errorf("got %v: a refused container must not end the run's logins", err)
				}
				for _, want := range tt.wantIs {
					if !errors.Is(err, want) {
						t.Errorf("got %v, want it to match %v", err, want)
					}
				}
				if err == nil || !strings.Contains(err.Error(), tt.wantIn) || strings.Contains(err.Error(), key) {
					t.Errorf("got %v, want a message with %q and without the key", err, tt.wantIn)
				}
			}
			if got := pc.Requests(); got != tt.wantReqs {
				t.Errorf("token requests: got %d, want %d (none after the failure)", got, tt.wantReqs)
			}
		})
	}
}

// TestSASSubscriptionKey: the key goes in Ocp-Apim-Subscription-Key when
// set, and no such header is sent otherwise.
func TestSASSubscriptionKey(t *testing.T) {
	for _, key := range []string{"", "my-subscription-key"} {
		pc, src, _ := newSAS(t, pctest.Options{SubscriptionKey: key}, SASConfig{SubscriptionKey: key})
		if _, err := src.Token(t.Context(), pctest.DevAccount, testContainer); err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		if got := pc.SubscriptionKeys(); len(got) != 1 || got[0] != key {
			t.Errorf("key %q: the endpoint got %q", key, got)
		}
	}
}

// TestSASAnswerParsing: answers that are not usable tokens are refused
// without quoting them, and an error answer quoted in the error loses what
// looks like a signature and the subscription key sent.
func TestSASAnswerParsing(t *testing.T) {
	const secret, key = "sig=SECRETSIG", "SUBKEYSECRET"
	tests := []struct {
		name, ctype, body string
		wantIs            error
		status            int
	}{
		{"5xx quoting a token and the key", "text/plain", "upstream failed: se=1&" + secret + " for key " + key, ErrTokenEndpointUnavailable, http.StatusBadGateway},
		{"4xx quoting the key", "text/plain", "subscription key " + key + " is not valid", ErrLoginFailed, http.StatusUnauthorized},
		{"a token as expiry", "application/json", `{"msft:expiry":"se=1&` + secret + `","token":"se=1&` + secret + `"}`, ErrNotTokenEndpoint, 0},
		{"html", "text/html", "<html>" + secret + "</html>", ErrNotTokenEndpoint, 0},
		{"no token", "application/json", `{"msft:expiry":"2026-11-22T21:00:00Z"}`, ErrNotTokenEndpoint, 0},
		{"bad expiry", "application/json", `{"msft:expiry":"tomorrow","token":"` + secret + `"}`, ErrNotTokenEndpoint, 0},
		{"space in token", "application/json", `{"msft:expiry":"2026-11-22T21:00:00Z","token":"se=1 ` + secret + `"}`, ErrBadTokenAnswer, 0},
		{"already expired", "application/json", `{"msft:expiry":"2026-11-22T19:00:00Z","token":"` + secret + `"}`, ErrBadTokenAnswer, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Date", t0.Format(http.TimeFormat))
				w.Header().Set("Content-Type", tt.ctype)
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			src, err := NewSASSource(SASConfig{TokenURL: srv.URL, SubscriptionKey: key, Now: func() time.Time { return t0 },
				Sleep: func(context.Context, time.Duration) error { return nil }})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Token(t.Context(), pctest.DevAccount, testContainer)
			if !errors.Is(err, tt.wantIs) || strings.Contains(err.Error(), "SECRETSIG") || strings.Contains(err.Error(), key) {
				t.Errorf("got %v, want %v without the token or the key", err, tt.wantIs)
			}
		})
	}
}
