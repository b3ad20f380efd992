package auth

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestCloseCutsRenewalBackoff: the run is interrupted while the shared
// renewal waits out a token endpoint's Retry-After. Close does not wait for
// that pause (nothing is in flight that could open a session): it cuts it,
// so that wcdl exits at once instead of after Close's own time limit.
func TestCloseCutsRenewalBackoff(t *testing.T) {
	sleeping := make(chan struct{})
	cut := make(chan error, 1)
	sleep := func(ctx context.Context, d time.Duration) error {
		close(sleeping)
		<-ctx.Done() // the Retry-After below is an hour: only a cut ends it
		cut <- context.Cause(ctx)
		return context.Cause(ctx)
	}
	u, calls := answering(t, http.StatusServiceUnavailable, "application/json", `{"error":"temporarily_unavailable"}`)
	p, err := NewProvider(Config{TokenURL: u, ClientID: "c", Credentials: Credentials{Username: "u", Password: testPassword},
		Backoff: func(int) time.Duration { return time.Hour }, MaxWait: time.Hour, Sleep: sleep})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := p.Token(ctx)
		done <- err
	}()
	<-sleeping
	cancel() // the interrupt: the caller gives up
	if err := <-done; err == nil {
		t.Fatal("Token returned no error after its context ended")
	}

	// Close's own limit only keeps a broken build from hanging the test.
	cctx, ccancel := context.WithTimeout(t.Context(), time.Minute)
	defer ccancel()
	if err := p.Close(cctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if cctx.Err() != nil {
		t.Fatal("Close waited for the renewal's pause until its own limit")
	}
	select {
	case err := <-cut:
		if err == nil {
			t.Error("the pause ended without a cause")
		}
	default:
		t.Error("Close returned but the renewal's pause was not cut")
	}
	if n := calls(); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}
