package downloader

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/auth/keycloaktest"
	"github.com/wcdl/wcdl/downloader/terrascopetest"
	"github.com/wcdl/wcdl/manifest"
)

// tileName returns the Terrascope name of a WorldCover tile.
func tileName(i int) string {
	id := fmt.Sprintf("ESA_WorldCover_10m_2020_v100_N%02dE%03d_Map", i%90, i)
	return "WORLDCOVER/ESA_WORLDCOVER_10M_2020_V100/MAP/" + id + "/" + id + ".tif"
}

func tileEntries(s *terrascopetest.Server, n int) []manifest.Entry {
	var out []manifest.Entry
	for i := range n {
		name := tileName(i)
		e := entry(s.URL()+"/"+name, fmt.Sprintf("tile%02d.tif", i))
		out = append(out, e)
	}
	return out
}

// terrascopeClient returns a client carrying the real auth transport for s
// behind kc.
func terrascopeClient(t *testing.T, kc *keycloaktest.Server, serviceHost string) *http.Client {
	t.Helper()
	p, err := auth.NewProvider(auth.Config{
		TokenURL:    kc.TokenURL(),
		ClientID:    keycloaktest.DefaultClient,
		Credentials: auth.Credentials{Username: keycloaktest.DefaultUser, Password: keycloaktest.DefaultPassword},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &auth.Transport{
		Source: p, Trusted: []string{serviceHost}, LoginHosts: []string{hostOf(kc.URL())},
	}}
}

// TestTerrascopeFaults downloads tiles from the fake Terrascope service
// behind the fake Keycloak while it cuts bodies, fails with 503, serves
// login pages, redirects to the login page and revokes tokens: every tile
// must arrive whole, with the service's checksum.
func TestTerrascopeFaults(t *testing.T) {
	// With several workers, a token renewed by one worker can be revoked by
	// another's download before it is used: the file is then tried again
	// with the current token, and must still arrive.
	tests := []struct {
		name    string
		workers int
		opts    []terrascopetest.Option
	}{
		{name: "cut bodies with range", opts: []terrascopetest.Option{terrascopetest.WithCutBody(0.4)}},
		{name: "cut bodies without range", opts: []terrascopetest.Option{terrascopetest.WithCutBody(0.3), terrascopetest.WithRange(false)}},
		{name: "503 and html pages", opts: []terrascopetest.Option{terrascopetest.WithFail503(0.3), terrascopetest.WithHTML(0.2)}},
		{name: "revoked tokens, 401", workers: 4, opts: []terrascopetest.Option{terrascopetest.WithRevokeEvery(3), terrascopetest.WithCutBody(0.2)}},
		{name: "revoked tokens, login redirect", workers: 4, opts: []terrascopetest.Option{terrascopetest.WithRevokeEvery(3), terrascopetest.WithCutBody(0.2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kc := keycloaktest.NewServer()
			defer kc.Close()
			opts := append([]terrascopetest.Option{terrascopetest.WithFileSize(300 << 10), terrascopetest.WithSeed(7)}, tt.opts...)
			if tt.name == "revoked tokens, login redirect" {
				opts = append(opts, terrascopetest.WithLoginRedirect(kc.LoginURL()))
			}
			s := terrascopetest.NewServer(kc, opts...)
			defer s.Close()
			entries := tileEntries(s, 12)
			d := newTest(t, Config{Client: terrascopeClient(t, kc, s.Host()), Attempts: 12, Workers: tt.workers})
			res := run(t, d, entries...)
			for i, r := range res {
				if r.Status != Downloaded {
					t.Errorf("%s: %s after %d attempts (%v), want downloaded", r.Entry.Name, r.Status, r.Attempts, r.Err)
					continue
				}
				if want := s.SHA256(tileName(i)); r.SHA256 != want {
					t.Errorf("%s: SHA256 %s, want %s", r.Entry.Name, r.SHA256, want)
				}
				checkNoTemp(t, r.Path)
			}
			st := s.Stats()
			if strings.HasPrefix(tt.name, "revoked") {
				if st.Revocations == 0 {
					t.Errorf("no token was revoked; the case proves nothing")
				}
				// Revocation drops access tokens only: the refresh grant
				// recovers, with no second login.
				if kst := kc.Stats(); kst.PasswordGrants != 1 || kst.FailedRefreshGrants != 0 {
					t.Errorf("keycloak: %d password grants, %d failed refreshes; want 1 and 0", kst.PasswordGrants, kst.FailedRefreshGrants)
				}
			}
			if tt.name == "cut bodies with range" && float64(st.BytesServed) > 1.3*12*(300<<10) {
				t.Errorf("served %d bytes for %d, want resumes to keep it under 1.3×", st.BytesServed, 12*(300<<10))
			}
		})
	}
}

// TestTerrascopeRetryAfter: no retry after a 429 comes before its
// Retry-After, by the server's own count.
func TestTerrascopeRetryAfter(t *testing.T) {
	s := terrascopetest.NewServer(nil, terrascopetest.WithFileSize(10<<10), terrascopetest.WithSeed(1),
		terrascopetest.WithFail429(0.5, time.Second))
	defer s.Close()
	d := newTest(t, Config{RetryMaxWait: time.Minute, Attempts: 10})
	res := run(t, d, tileEntries(s, 3)...)
	for _, r := range res {
		if r.Status != Downloaded {
			t.Errorf("%s: %s (%v), want downloaded", r.Entry.Name, r.Status, r.Err)
		}
	}
	st := s.Stats()
	if st.ByStatus[http.StatusTooManyRequests] == 0 {
		t.Fatalf("the server sent no 429; the test proves nothing")
	}
	if st.EarlyRetries != 0 {
		t.Errorf("EarlyRetries = %d, want 0", st.EarlyRetries)
	}
}

// TestTerrascopeCrossHostRedirect: the token never reaches another host.
func TestTerrascopeCrossHostRedirect(t *testing.T) {
	kc := keycloaktest.NewServer()
	defer kc.Close()
	mirror := terrascopetest.NewServer(nil, terrascopetest.WithFileSize(20<<10))
	defer mirror.Close()
	s := terrascopetest.NewServer(kc, terrascopetest.WithFileSize(20<<10), terrascopetest.WithRedirectTo(mirror.URL()))
	defer s.Close()
	d := newTest(t, Config{Client: terrascopeClient(t, kc, s.Host())})
	res, err := d.Run(context.Background(), tileEntries(s, 3))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != Downloaded {
			t.Errorf("%s: %s (%v), want downloaded", r.Entry.Name, r.Status, r.Err)
		}
	}
	if got := s.Stats().AuthorizationSeen; got != 3 {
		t.Errorf("trusted host saw %d tokens, want 3", got)
	}
	if got := mirror.Stats().AuthorizationSeen; got != 0 {
		t.Errorf("the other host saw Authorization %d times, want 0", got)
	}
}

// TestTerrascopeRevocationsAreNotRefusals: a service that revokes every
// token on one authorized download in four, under eight workers, makes
// fresh tokens fail now and then for requests that raced a revocation; the
// tokens keep working for the other requests, so no file may fail for
// "refused a freshly issued token", and the batch completes with the
// default attempt budget.
func TestTerrascopeRevocationsAreNotRefusals(t *testing.T) {
	for _, redirect := range []bool{false, true} {
		t.Run(fmt.Sprintf("login redirect %v", redirect), func(t *testing.T) {
			kc := keycloaktest.NewServer()
			defer kc.Close()
			opts := []terrascopetest.Option{terrascopetest.WithFileSize(64 << 10), terrascopetest.WithRevokeEvery(4)}
			if redirect {
				opts = append(opts, terrascopetest.WithLoginRedirect(kc.LoginURL()))
			}
			s := terrascopetest.NewServer(kc, opts...)
			defer s.Close()
			const files = 48
			d := newTest(t, Config{Client: terrascopeClient(t, kc, s.Host()), Workers: 8})
			res, err := d.Run(context.Background(), tileEntries(s, files))
			if err != nil {
				t.Fatalf("Run: %v (the batch stopped)", err)
			}
			attempts := 0
			for _, r := range res {
				attempts += r.Attempts
				if r.Status != Downloaded {
					t.Errorf("%s: %s after %d attempts (%v), want downloaded", r.Entry.Name, r.Status, r.Attempts, r.Err)
				}
			}
			st, kst := s.Stats(), kc.Stats()
			t.Logf("%d files, %d attempts, %d revocations, %d token requests", files, attempts, st.Revocations, kst.TokenRequests())
			if st.Revocations < files/8 {
				t.Errorf("revocations: got %d, want at least %d; the case proves little", st.Revocations, files/8)
			}
			if kst.PasswordGrants != 1 || kst.FailedRefreshGrants != 0 {
				t.Errorf("keycloak: %d password grants, %d failed refreshes; want 1 and 0", kst.PasswordGrants, kst.FailedRefreshGrants)
			}
		})
	}
}

// TestTerrascopeRevocationStorm: a service that revokes every token on
// about one download in four and refuses that download itself, under eight
// workers. Renewed tokens are refused again and again for requests that
// raced a revocation, several times in a row for one file at times, while
// the other requests of the run succeed: each such refusal is a
// revocation, so every file arrives and the batch completes with the
// default attempt budget.
func TestTerrascopeRevocationStorm(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 4} {
		for _, redirect := range []bool{false, true} {
			t.Run(fmt.Sprintf("seed %d, login redirect %v", seed, redirect), func(t *testing.T) {
				kc := keycloaktest.NewServer()
				defer kc.Close()
				opts := []terrascopetest.Option{terrascopetest.WithFileSize(64 << 10), terrascopetest.WithSeed(seed), terrascopetest.WithRevokeRefusing(4)}
				if redirect {
					opts = append(opts, terrascopetest.WithLoginRedirect(kc.LoginURL()))
				}
				s := terrascopetest.NewServer(kc, opts...)
				defer s.Close()
				const files = 48
				d := newTest(t, Config{Client: terrascopeClient(t, kc, s.Host()), Workers: 8})
				res, err := d.Run(context.Background(), tileEntries(s, files))
				if err != nil {
					t.Errorf("Run: %v (the batch stopped)", err)
				}
				failed, attempts := 0, 0
				for _, r := range res {
					attempts += r.Attempts
					if r.Status != Downloaded {
						failed++
						t.Errorf("%s: %s after %d attempts (%v), want downloaded", r.Entry.Name, r.Status, r.Attempts, r.Err)
					}
				}
				st := s.Stats()
				t.Logf("%d files, %d failed, %d attempts, %d revocations, %d token requests", files, failed, attempts, st.Revocations, kc.Stats().TokenRequests())
				if st.Revocations < files/8 {
					t.Errorf("revocations: got %d, want at least %d; the case proves little", st.Revocations, files/8)
				}
			})
		}
	}
}

// noAccess is an account without access to the service: its tokens are
// valid at the identity provider and refused by the service.
type noAccess struct{}

func (noAccess) Valid(string) bool { return false }
func (noAccess) RevokeAccess()     {}

// TestTerrascopeNoAccessStops: an account whose every token the service
// refuses stops the batch after a few requests, by the service's count,
// even with eight workers: no refusal passes for a revocation when no token
// was ever accepted.
func TestTerrascopeNoAccessStops(t *testing.T) {
	kc := keycloaktest.NewServer()
	defer kc.Close()
	s := terrascopetest.NewServer(noAccess{}, terrascopetest.WithFileSize(64<<10))
	defer s.Close()
	const files, workers = 100, 8
	d := newTest(t, Config{Client: terrascopeClient(t, kc, s.Host()), Workers: workers})
	res, err := d.Run(context.Background(), tileEntries(s, files))
	if !errors.Is(err, auth.ErrTokenRefused) {
		t.Fatalf("Run error = %v, want auth.ErrTokenRefused", err)
	}
	notStarted := 0
	for _, r := range res {
		if r.Status == NotStarted {
			notStarted++
		}
	}
	// Each file ends after 1+maxRefusals attempts of two requests (the
	// token and its renewal); the batch stops after as many refused files
	// in a row as there are workers, when at most one more file per
	// worker was under way.
	const most = 2 * workers * (1 + maxRefusals) * 2
	if got := s.Stats().Requests; got > most {
		t.Errorf("the service got %d requests, want at most %d", got, most)
	}
	if notStarted < files-2*workers {
		t.Errorf("%d of %d files not started, want at least %d", notStarted, files, files-2*workers)
	}
	t.Logf("%d requests, %d files not started", s.Stats().Requests, notStarted)
}
