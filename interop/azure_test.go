package interop

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/auth/pctest"
	"github.com/wcdl/wcdl/downloader"
	"github.com/wcdl/wcdl/interop/loopback"
	"github.com/wcdl/wcdl/manifest"
)

const container = "esa-worldcover"

// azureBlobs uploads n random blobs to a new container of Azurite with an
// account SAS, and returns their URLs (unsigned) and contents.
func azureBlobs(t *testing.T, a *loopback.Azure, n int) ([]string, map[string][]byte) {
	t.Helper()
	sas, err := pctest.AccountSAS(a.Account, a.Key, "rwdlac", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	root := a.Endpoint + "/" + a.Account + "/" + container
	put := func(u string, body []byte, h map[string]string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, u, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-ms-version", pctest.Version)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %s (%s)", downloader.Redact(u), resp.Status, resp.Header.Get("x-ms-error-code"))
		}
	}
	put(root+"?restype=container&"+sas, nil, nil)
	var urls []string
	content := map[string][]byte{}
	for i := range n {
		name := fmt.Sprintf("v200/2021/map/tile%02d.dat", i)
		body := make([]byte, 64<<10+i)
		_, _ = rand.Read(body)
		put(root+"/"+name+"?"+sas, body, map[string]string{"x-ms-blob-type": "BlockBlob"})
		urls = append(urls, root+"/"+name)
		content[filepath.Base(name)] = body
	}
	return urls, content
}

// sasDownload downloads urls with SAS tokens from src through the same
// transports wcdl builds for --provider pc.
func sasDownload(t *testing.T, src auth.SASTokens, host string, urls []string, workers int) ([]downloader.Result, string, error) {
	t.Helper()
	dir := t.TempDir()
	var logs syncBuffer
	d, err := downloader.New(downloader.Config{
		Dir:     dir,
		Workers: workers,
		Client: &http.Client{Transport: &auth.SASTransport{Source: src, Base: downloader.NewTransport(workers, nil),
			Trusted: []string{host}}},
		Attempts: 3,
		Logger:   newLogger(&logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	var entries []manifest.Entry
	for _, u := range urls {
		entries = append(entries, manifest.Entry{Raw: u, URL: u, Name: filepath.Base(u), Size: -1})
	}
	results, err := d.Run(t.Context(), entries)
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(&logs, "%s: %v\n", r.Entry.Name, r.Err)
		}
	}
	return results, logs.String() + "\n" + dir, err
}

// TestAzuriteSAS downloads blobs from Azurite with SAS tokens that the
// fake Planetary Computer endpoint signs with Azurite's key: Azurite checks
// every signature. A forged or expired token (that the endpoint still
// claims valid) is refused with 403 and renewed once; a token endpoint
// that only issues bad tokens stops the batch with ErrTokenRefused. No
// token appears in the log or the errors.
func TestAzuriteSAS(t *testing.T) {
	a := loopback.Azurite(t)
	urls, content := azureBlobs(t, a, 8)
	host := strings.TrimPrefix(a.Endpoint, "http://")
	tests := []struct {
		name      string
		spoil     func(n int64) pctest.Spoil
		wantErr   error
		wantCount func(n int64) bool
		want      string
	}{
		{"good tokens", nil, nil, func(n int64) bool { return n == 1 }, "1"},
		{"first token forged", func(n int64) pctest.Spoil {
			if n == 1 {
				return pctest.Forged
			}
			return pctest.Good
		}, nil, func(n int64) bool { return n == 2 }, "2"},
		{"first token expired", func(n int64) pctest.Spoil {
			if n == 1 {
				return pctest.Expired
			}
			return pctest.Good
		}, nil, func(n int64) bool { return n == 2 }, "2"},
		// At most one renewal per refused attempt: the first token, then
		// at most 3 attempts for each of the 8 files.
		{"every token expired", func(int64) pctest.Spoil { return pctest.Expired }, auth.ErrTokenRefused,
			func(n int64) bool { return n >= 2 && n <= 1+8*3 }, "2 to 25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc := pctest.NewServer(pctest.Options{Account: a.Account, Key: a.Key, Lifetime: 20 * time.Second, Spoil: tt.spoil})
			defer pc.Close()
			src, err := auth.NewSASSource(auth.SASConfig{TokenURL: pc.URL})
			if err != nil {
				t.Fatal(err)
			}
			results, logs, err := sasDownload(t, src, host, urls, 4)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Run: got %v, want %v\n%s", err, tt.wantErr, logs)
			}
			if n := pc.Requests(); !tt.wantCount(n) {
				t.Errorf("token requests: got %d, want %s", n, tt.want)
			}
			t.Logf("%d token requests", pc.Requests())
			for _, tok := range pc.Issued() {
				q, _ := url.ParseQuery(tok)
				if strings.Contains(logs, q.Get("sig")) || strings.Contains(logs, url.QueryEscape(q.Get("sig"))) || strings.Contains(logs, "sig=") {
					t.Errorf("a signature appears in the log or the errors")
				}
			}
			if tt.wantErr != nil {
				return
			}
			for _, r := range results {
				got, err := os.ReadFile(r.Path)
				if r.Status != downloader.Downloaded || err != nil || !bytes.Equal(got, content[r.Entry.Name]) {
					t.Errorf("%s: status %v (%v), %d bytes, want the %d bytes uploaded", r.Entry.Name, r.Status, r.Err, len(got), len(content[r.Entry.Name]))
				}
			}
		})
	}
}

// TestAzuriteRefusesUnsignedAndForeign checks the counterpart itself: an
// unsigned request and one signed for another container are refused by
// Azurite, and SASTransport leaves a host it does not trust unsigned.
func TestAzuriteRefusesUnsignedAndForeign(t *testing.T) {
	a := loopback.Azurite(t)
	urls, _ := azureBlobs(t, a, 1)
	other, err := pctest.ContainerSAS(a.Account, a.Key, "another", "rl", time.Time{}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{urls[0], urls[0] + "?" + other} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s: got %s, want 403", downloader.Redact(u), resp.Status)
		}
	}
	pc := pctest.NewServer(pctest.Options{Account: a.Account, Key: a.Key})
	defer pc.Close()
	src, err := auth.NewSASSource(auth.SASConfig{TokenURL: pc.URL})
	if err != nil {
		t.Fatal(err)
	}
	// Trusting another port only: the request goes out unsigned, Azurite
	// refuses it, and no token was even asked for.
	c := &http.Client{Transport: &auth.SASTransport{Source: src, Trusted: []string{"127.0.0.1:1"}}}
	resp, err := c.Get(urls[0])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || pc.Requests() != 0 {
		t.Errorf("untrusted host: got %s and %d token requests, want 403 and none", resp.Status, pc.Requests())
	}
}

// syncBuffer collects log lines from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAzuriteSASRenewals runs the token source through a simulated
// two-minute run of 4 workers with 20 s tokens: the source's clock is
// manual, while the endpoint and Azurite keep real time, so every renewed
// token is checked by Azurite. All workers together make at most
// run/(lifetime/2)+3 token requests.
func TestAzuriteSASRenewals(t *testing.T) {
	const (
		lifetime = 20 * time.Second
		run      = 2 * time.Minute
		step     = time.Second
		workers  = 4
	)
	a := loopback.Azurite(t)
	urls, content := azureBlobs(t, a, workers)
	pc := pctest.NewServer(pctest.Options{Account: a.Account, Key: a.Key, Lifetime: lifetime})
	defer pc.Close()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	src, err := auth.NewSASSource(auth.SASConfig{TokenURL: pc.URL, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(a.Endpoint, "http://")
	c := &http.Client{Transport: &auth.SASTransport{Source: src, Trusted: []string{host}}}
	for elapsed := time.Duration(0); elapsed <= run; elapsed += step {
		var wg sync.WaitGroup
		for _, u := range urls {
			wg.Go(func() {
				resp, err := c.Get(u)
				if err != nil {
					t.Errorf("at %v: %v", elapsed, err)
					return
				}
				defer resp.Body.Close()
				var b bytes.Buffer
				_, _ = b.ReadFrom(resp.Body)
				if resp.StatusCode != http.StatusOK || !bytes.Equal(b.Bytes(), content[filepath.Base(u)]) {
					t.Errorf("at %v: %s, %d bytes", elapsed, resp.Status, b.Len())
				}
			})
		}
		wg.Wait()
		mu.Lock()
		now = now.Add(step)
		mu.Unlock()
	}
	limit := int64(run/(lifetime/2)) + 3
	got := pc.Requests()
	t.Logf("%d token requests for %d workers over a simulated %v with %v tokens (limit %d)", got, workers, run, lifetime, limit)
	if got > limit || got < int64(run/lifetime) {
		t.Errorf("token requests: got %d, want between %d and %d", got, run/lifetime, limit)
	}
}
