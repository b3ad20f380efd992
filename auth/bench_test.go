package auth

import (
	"context"
	"testing"
	"time"

	"github.com/wcdl/wcdl/auth/keycloaktest"
)

// cachedProvider returns a Provider holding a valid token.
func cachedProvider(tb testing.TB) *Provider {
	tb.Helper()
	kc := keycloaktest.NewServer()
	tb.Cleanup(kc.Close)
	p, err := NewProvider(Config{TokenURL: kc.TokenURL(), ClientID: keycloaktest.DefaultClient,
		Credentials: Credentials{Username: keycloaktest.DefaultUser, Password: keycloaktest.DefaultPassword}})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := p.Token(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestTokenCachedAllocatesNothing(t *testing.T) {
	p := cachedProvider(t)
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() { _, _ = p.Token(ctx) }); n != 0 {
		t.Errorf("Token with a cached token: got %v allocations, want 0", n)
	}
}

// BenchmarkTokenCached measures Token from many goroutines while the
// cached token is valid: the path every download request takes.
func BenchmarkTokenCached(b *testing.B) {
	p := cachedProvider(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Token(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if n := p.Stats().TokenRequests(); n != 1 {
		b.Fatalf("got %d token requests, want 1", n)
	}
}

// BenchmarkRefreshGrant measures one refresh grant against the fake
// Keycloak on loopback, forced by advancing the clock past the lifetime.
func BenchmarkRefreshGrant(b *testing.B) {
	clock := keycloaktest.NewClock(time.Unix(1_700_000_000, 0))
	kc := keycloaktest.NewServer(keycloaktest.WithClock(clock.Now), keycloaktest.WithRefreshLifetime(0))
	defer kc.Close()
	p, err := NewProvider(Config{TokenURL: kc.TokenURL(), ClientID: keycloaktest.DefaultClient,
		Credentials: Credentials{Username: keycloaktest.DefaultUser, Password: keycloaktest.DefaultPassword}, Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		clock.Advance(time.Hour)
		if _, err := p.Token(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(kc.Stats().RefreshGrants)/float64(b.N), "refresh/op")
}
