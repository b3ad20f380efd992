package downloader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/auth/keycloaktest"
	"github.com/wcdl/wcdl/manifest"
)

// authed is a fake service behind a fake Keycloak, with a client carrying
// the real auth.Transport.
type authed struct {
	kc     *keycloaktest.Server
	clock  *keycloaktest.Clock
	svc    *fakeService
	client *http.Client

	mu     sync.Mutex
	tokens []string // bearer tokens the service saw
}

func newAuthed(t *testing.T, password string, refuse func(a *authed, w http.ResponseWriter, r *http.Request)) *authed {
	t.Helper()
	a := &authed{clock: keycloaktest.NewClock(time.Date(2026, 11, 22, 20, 0, 0, 0, time.UTC))}
	a.kc = keycloaktest.NewServer(keycloaktest.WithClock(a.clock.Now))
	t.Cleanup(a.kc.Close)
	a.svc = newFakeService(t)
	a.svc.guard = func(w http.ResponseWriter, r *http.Request) bool {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if tok != "" {
			a.mu.Lock()
			a.tokens = append(a.tokens, tok)
			a.mu.Unlock()
		}
		if a.kc.Valid(tok) {
			return false
		}
		refuse(a, w, r)
		return true
	}
	p, err := auth.NewProvider(auth.Config{
		TokenURL:    a.kc.TokenURL(),
		ClientID:    keycloaktest.DefaultClient,
		Credentials: auth.Credentials{Username: keycloaktest.DefaultUser, Password: password},
		Now:         a.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	a.client = &http.Client{Transport: &auth.Transport{
		Source:     p,
		Trusted:    []string{hostOf(a.svc.URL)},
		LoginHosts: []string{hostOf(a.kc.URL())},
	}}
	return a
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	return p.Host
}

func answer401(a *authed, w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="terrascope"`)
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}

func redirectToLogin(a *authed, w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, a.kc.LoginURL()+"?client_id=terrascope&redirect_uri="+url.QueryEscape(r.URL.String()), http.StatusFound)
}

// checkNoSecret fails if any token the service saw appears in text.
func (a *authed) checkNoSecret(t *testing.T, what, text string) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, tok := range a.tokens {
		if strings.Contains(text, tok) {
			t.Errorf("%s holds an access token", what)
		}
	}
	if strings.Contains(text, "Bearer ") {
		t.Errorf("%s holds an Authorization header: %s", what, text)
	}
}

// TestTokenLostMidFile cuts a download, then makes the token invalid before
// the resume: the auth transport renews it and the file resumes.
func TestTokenLostMidFile(t *testing.T) {
	const size = 512 << 10
	tests := []struct {
		name   string
		refuse func(*authed, http.ResponseWriter, *http.Request)
		lose   func(a *authed)
	}{
		{name: "revoked, 401", refuse: answer401, lose: func(a *authed) { a.kc.RevokeAll() }},
		{name: "revoked, login redirect", refuse: redirectToLogin, lose: func(a *authed) { a.kc.RevokeAll() }},
		{name: "expired", refuse: answer401, lose: func(a *authed) { a.clock.Advance(10 * time.Minute) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuthed(t, keycloaktest.DefaultPassword, tt.refuse)
			data := content(size, 30)
			f := &fakeFile{data: data, cutAfter: cutFirst(1, size/2), reply: func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n == 2 {
					tt.lose(a)
				}
				return false
			}}
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			d := newTest(t, Config{Client: a.client, Logger: logger})
			r := run(t, d, entry(a.svc.add("/f.bin", f), "f.bin"))[0]
			if r.Status != Downloaded {
				t.Fatalf("Status = %s (%v), want downloaded", r.Status, r.Err)
			}
			checkFile(t, r.Path, data)
			seen := a.svc.seenFor("/f.bin")
			if last := seen[len(seen)-1]; last.Range != "bytes="+strconv.Itoa(size/2)+"-" {
				t.Errorf("last request Range = %q, want the resume from %d", last.Range, size/2)
			}
			if got := a.svc.sent.Load(); got != size {
				t.Errorf("service sent %d bytes, want %d (resumed, not restarted)", got, size)
			}
			a.checkNoSecret(t, "the log", logs.String())
		})
	}
}

// TestBadCredentialsStopBatch: a rejected login stops the batch at once.
func TestBadCredentialsStopBatch(t *testing.T) {
	a := newAuthed(t, "wrong-password", answer401)
	var entries []manifest.Entry
	for i := range 10 {
		name := "f" + strconv.Itoa(i) + ".bin"
		entries = append(entries, entry(a.svc.add("/"+name, &fakeFile{data: content(1000, uint64(i))}), name))
	}
	d := newTest(t, Config{Client: a.client, Workers: 3})
	res, err := d.Run(context.Background(), entries)
	if !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("Run error = %v, want auth.ErrBadCredentials", err)
	}
	var failed int64
	for _, r := range res {
		if (r.Status != Failed && r.Status != NotStarted) || !errors.Is(r.Err, auth.ErrBadCredentials) {
			t.Errorf("%s: %s, %v; want failed or not started with auth.ErrBadCredentials", r.Entry.Name, r.Status, r.Err)
		}
		if (r.Status == NotStarted) != errors.Is(r.Err, ErrNotStarted) {
			t.Errorf("%s: %s, %v; a not started entry, and only it, wraps ErrNotStarted", r.Entry.Name, r.Status, r.Err)
		}
		if r.Status == Failed {
			failed++
		}
		if r.Attempts > 1 {
			t.Errorf("%s: %d attempts, want at most 1 (a rejected login is never retried)", r.Entry.Name, r.Attempts)
		}
		if r.Err != nil && strings.Contains(r.Err.Error(), "wrong-password") {
			t.Errorf("error holds the password: %v", r.Err)
		}
	}
	if n := a.svc.requests.Load(); n != 0 {
		t.Errorf("service got %d requests, want 0", n)
	}
	// No request reached the service: every entry, those the workers had
	// taken included, is not started, and the stop is told once.
	if p := d.Progress(); p.FilesDone != 10 || failed != 0 || p.Failed != 0 || p.NotStarted != 10 {
		t.Errorf("Progress = %+v, want all 10 not started", p)
	}
}

// TestTokenRefusedStopsBatch: a service that refuses every fresh token stops
// the batch after as many consecutive refused files as there are workers;
// since no token ever works, no refusal passes for a revocation and no file
// is tried more than 1+maxRefusals times, with many workers too.
func TestTokenRefusedStopsBatch(t *testing.T) {
	for _, workers := range []int{2, 8} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			a := newAuthed(t, keycloaktest.DefaultPassword, answer401)
			const n = 20
			var entries []manifest.Entry
			for i := range n {
				name := "f" + strconv.Itoa(i) + ".bin"
				f := &fakeFile{data: content(1000, uint64(i)), reply: func(_ int, w http.ResponseWriter, r *http.Request) bool {
					answer401(a, w, r)
					return true
				}}
				entries = append(entries, entry(a.svc.add("/"+name, f), name))
			}
			d := newTest(t, Config{Client: a.client, Workers: workers})
			res, err := d.Run(context.Background(), entries)
			if !errors.Is(err, auth.ErrTokenRefused) {
				t.Fatalf("Run error = %v, want auth.ErrTokenRefused", err)
			}
			notStarted := 0
			for _, r := range res {
				if (r.Status != Failed && r.Status != NotStarted) || !errors.Is(r.Err, auth.ErrTokenRefused) {
					t.Errorf("%s: %s, %v; want failed or not started with auth.ErrTokenRefused", r.Entry.Name, r.Status, r.Err)
				}
				if (r.Status == NotStarted) != errors.Is(r.Err, ErrNotStarted) {
					t.Errorf("%s: %s, %v; a not started entry, and only it, wraps ErrNotStarted", r.Entry.Name, r.Status, r.Err)
				}
				if r.Status == NotStarted {
					notStarted++
				}
				if r.Attempts > 1+maxRefusals {
					t.Errorf("%s: %d attempts, want at most %d", r.Entry.Name, r.Attempts, 1+maxRefusals)
				}
			}
			// The batch stops when the last of `workers` refusals in a row
			// ends; by then at most one more file was handed out per worker.
			if notStarted < n-2*workers {
				t.Errorf("%d entries not started, want at least %d", notStarted, n-2*workers)
			}
		})
	}
}

// TestRedirects: a cross-host redirect reaches the second host without the
// token, and endless redirects fail after five hops.
func TestRedirects(t *testing.T) {
	a := newAuthed(t, keycloaktest.DefaultPassword, answer401)
	data := content(50<<10, 40)
	var mu sync.Mutex
	var otherAuth []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		otherAuth = append(otherAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("ETag", `"x"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	}))
	defer other.Close()
	redirectTo := func(to string) func(int, http.ResponseWriter, *http.Request) bool {
		return func(_ int, w http.ResponseWriter, r *http.Request) bool {
			http.Redirect(w, r, to, http.StatusFound)
			return true
		}
	}
	loop := a.svc.add("/loop.bin", &fakeFile{})
	a.svc.files["/loop.bin"].reply = redirectTo(loop)
	entries := []manifest.Entry{
		entry(a.svc.add("/moved.bin", &fakeFile{reply: redirectTo(other.URL + "/x.bin")}), "moved.bin"),
		entry(loop, "loop.bin"),
	}
	d := newTest(t, Config{Client: a.client, Workers: 1})
	res := run(t, d, entries...)
	if r := res[0]; r.Status != Downloaded {
		t.Fatalf("redirected: %s (%v), want downloaded", r.Status, r.Err)
	} else {
		checkFile(t, r.Path, data)
	}
	if len(otherAuth) != 1 || otherAuth[0] != "" {
		t.Errorf("second host saw Authorization %q, want one request without it", otherAuth)
	}
	if seen := a.svc.seenFor("/moved.bin"); len(seen) != 1 || seen[0].Authorization == "" {
		t.Errorf("trusted host saw %+v, want one request with a token", seen)
	}
	if r := res[1]; r.Status != Failed || !errors.Is(r.Err, ErrTooManyRedirects) || r.Attempts != 1 {
		t.Errorf("redirect loop: %s after %d attempts (%v), want failed with ErrTooManyRedirects after 1", r.Status, r.Attempts, r.Err)
	}
	if n := len(a.svc.seenFor("/loop.bin")); n != maxRedirects+1 {
		t.Errorf("redirect loop: %d requests, want %d", n, maxRedirects+1)
	}
	a.checkNoSecret(t, "the error", res[1].Err.Error())
}

// gatedTransport answers each path only when the test opens its gate:
// refused paths with an error wrapping auth.ErrTokenRefused, the others
// through to the server.
type gatedTransport struct {
	gates   map[string]chan struct{}
	refused map[string]bool
}

func (g *gatedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case <-g.gates[req.URL.Path]:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	if g.refused[req.URL.Path] {
		return nil, fmt.Errorf("auth: %s answered 401 Unauthorized to a renewed token: %w", req.URL.Path, auth.ErrTokenRefused)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestTokenRefusedCountsConsecutiveFiles: refusals separated by successes
// never stop the batch; as many in a row as there are workers do.
func TestTokenRefusedCountsConsecutiveFiles(t *testing.T) {
	tests := []struct {
		name     string
		refused  string // per file, in order of completion: r refused, o ok
		wantStop bool
	}{
		{name: "alternating", refused: "rorororo", wantStop: false},
		{name: "two in a row", refused: "orro", wantStop: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeService(t)
			g := &gatedTransport{gates: map[string]chan struct{}{}, refused: map[string]bool{}}
			var entries []manifest.Entry
			for i, c := range tt.refused {
				path := "/f" + strconv.Itoa(i) + ".bin"
				g.gates[path] = make(chan struct{})
				g.refused[path] = c == 'r'
				entries = append(entries, entry(s.add(path, &fakeFile{data: content(100, uint64(i))}), path[1:]))
			}
			ended := make(chan Result, len(entries))
			d := newTest(t, Config{Workers: 2, Client: &http.Client{Transport: g}, OnResult: func(r Result) { ended <- r }})
			type out struct {
				res []Result
				err error
			}
			done := make(chan out, 1)
			go func() {
				res, err := d.Run(context.Background(), entries)
				done <- out{res, err}
			}()
			// Let the files end one at a time, in entry order.
			// Once the batch stops, the rest end on their own.
			for _, e := range entries {
				close(g.gates["/"+e.Name]) // every attempt of this file may pass
				if r := <-ended; r.Entry.Name != e.Name {
					break
				}
			}
			o := <-done
			if got := errors.Is(o.err, auth.ErrTokenRefused); got != tt.wantStop {
				t.Fatalf("Run error = %v, want a stop: %v", o.err, tt.wantStop)
			}
			for i, r := range o.res {
				wantOK := tt.refused[i] == 'o' && (!tt.wantStop || i < strings.Index(tt.refused, "rr"))
				if got := r.Status == Downloaded; got != wantOK {
					t.Errorf("%s: %s (%v), want downloaded: %v", r.Entry.Name, r.Status, r.Err, wantOK)
				}
				// A refused file is tried again with the current token a
				// bounded number of times, never in a loop.
				ranToEnd := !tt.wantStop || i <= strings.Index(tt.refused, "rr")+1
				if tt.refused[i] == 'r' && ranToEnd && r.Attempts != 1+maxRefusals {
					t.Errorf("%s: refused after %d attempts, want %d", r.Entry.Name, r.Attempts, 1+maxRefusals)
				}
			}
		})
	}
}
