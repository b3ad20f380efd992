package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// countingSource hands out "t1", "t2", ... and a new one for each refusal.
type countingSource struct {
	mu sync.Mutex
	n  int
}

var _ TokenSource = (*countingSource)(nil)

func (s *countingSource) Token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint("t", s.n), nil
}

func (s *countingSource) Refused(ctx context.Context, _ string) (string, error) {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	return s.Token(ctx)
}

// TestRefusalReasonPhraseShown: a service that refuses the renewed token
// with escape sequences in its reason phrase gets them quoted as text in
// the error, by the bearer and the SAS transports alike.
func TestRefusalReasonPhraseShown(t *testing.T) {
	const reason = "\x1b[2J\x1b[31mEVIL\u009b0m\u202eLIVE"
	refuse := func(status int, h http.Header) func(*http.Request) *http.Response {
		return func(r *http.Request) *http.Response {
			resp := answer(r, status, h, "")
			resp.Status = fmt.Sprint(status, " ", reason)
			return resp
		}
	}
	tests := []struct {
		name string
		rt   func(base http.RoundTripper) http.RoundTripper
		url  string
		base *recorder
	}{
		{"bearer", func(b http.RoundTripper) http.RoundTripper {
			return &Transport{Source: &countingSource{}, Base: b, Trusted: []string{"h.example"}}
		}, "https://h.example/x.tif", &recorder{answer: refuse(http.StatusUnauthorized, nil)}},
		{"SAS", func(b http.RoundTripper) http.RoundTripper { return &SASTransport{Source: &fakeSAS{}, Base: b} },
			"https://acct1.blob.core.windows.net/esa/x.tif",
			&recorder{answer: refuse(http.StatusForbidden, http.Header{"X-Ms-Error-Code": {"AuthenticationFailed"}})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &http.Client{Transport: tt.rt(tt.base)}
			_, err := c.Get(tt.url)
			if !errors.Is(err, ErrTokenRefused) {
				t.Fatalf("got %v, want ErrTokenRefused", err)
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\x1b\u009b\u202e") {
				t.Errorf("the error holds the server's escape sequences: %q", msg)
			}
			if want := `EVIL\u009b0m\u202eLIVE`; !strings.Contains(msg, want) {
				t.Errorf("error %q lacks the reason phrase as text, %q", msg, want)
			}
		})
	}
}
