package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/wcdl/wcdl/auth/pctest"
)

// fakeSAS hands out "sig=<account>-<container>-<n>" tokens and counts
// them.
type fakeSAS struct {
	mu sync.Mutex
	n  map[string]int
}

var _ SASTokens = (*fakeSAS)(nil)

func (f *fakeSAS) Token(_ context.Context, account, container string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = map[string]int{}
	}
	k := account + "-" + container
	if f.n[k] == 0 {
		f.n[k] = 1
	}
	return fmt.Sprintf("sv=x&sig=%s-%d", k, f.n[k]), nil
}

func (f *fakeSAS) Refused(ctx context.Context, account, container, _ string) (string, error) {
	f.mu.Lock()
	f.n[account+"-"+container]++
	f.mu.Unlock()
	return f.Token(ctx, account, container)
}

// recorder is a base RoundTripper that records the URLs it is asked for
// and answers with answer.
type recorder struct {
	mu     sync.Mutex
	urls   []string
	answer func(r *http.Request) *http.Response
}

func (rc *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	rc.mu.Lock()
	rc.urls = append(rc.urls, r.URL.String())
	rc.mu.Unlock()
	if rc.answer != nil {
		return rc.answer(r), nil
	}
	return answer(r, http.StatusOK, nil, "ok"), nil
}

func answer(r *http.Request, status int, h http.Header, body string) *http.Response {
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: r}
}

func TestBlobContainer(t *testing.T) {
	tests := []struct {
		raw, account, container string
		ok                      bool
	}{
		{"https://ai4edataeuwest.blob.core.windows.net/esa-worldcover/v200/2021/map/x.tif", "ai4edataeuwest", "esa-worldcover", true},
		{"https://AI4EDATAEUWEST.blob.core.windows.net/esa-worldcover/x.tif", "ai4edataeuwest", "esa-worldcover", true},
		{"http://127.0.0.1:10000/devstoreaccount1/esa-worldcover/v200/x.tif", "devstoreaccount1", "esa-worldcover", true},
		{"http://localhost:10000/devstoreaccount1/esa/x.tif", "devstoreaccount1", "esa", true},
		{"http://ai4edataeuwest.blob.core.windows.net/esa-worldcover/x.tif", "", "", false}, // plain http
		{"https://ai4edataeuwest.blob.core.windows.net/esa-worldcover", "", "", false},      // no blob
		{"https://ai4edataeuwest.blob.core.windows.net.evil.org/esa-worldcover/x.tif", "", "", false},
		{"https://example.org/esa-worldcover/x.tif", "", "", false},
		{"http://127.0.0.1:10000/devstoreaccount1/x.tif", "", "", false},          // no container
		{"http://127.0.0.1:10000/Dev_Account/esa/x.tif", "", "", false},           // not an account name
		{"http://127.0.0.1:10000/devstoreaccount1/..%2Fesa/x.tif", "", "", false}, // not a container name
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			u, err := url.Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			a, c, ok := BlobContainer(u)
			if a != tt.account || c != tt.container || ok != tt.ok {
				t.Errorf("got %q %q %v, want %q %q %v", a, c, ok, tt.account, tt.container, tt.ok)
			}
		})
	}
}

// TestSASTransportSignsOnlyItsHost: a request carries the token of its own
// account and container, and only to a trusted blob host.
func TestSASTransportSignsOnlyItsHost(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"blob host", "https://ai4edataeuwest.blob.core.windows.net/esa-worldcover/map/x.tif",
			"https://ai4edataeuwest.blob.core.windows.net/esa-worldcover/map/x.tif?sv=x&sig=ai4edataeuwest-esa-worldcover-1"},
		{"other account", "https://other1.blob.core.windows.net/c01/x.tif",
			"https://other1.blob.core.windows.net/c01/x.tif?sv=x&sig=other1-c01-1"},
		{"own query kept", "https://ai4edataeuwest.blob.core.windows.net/esa-worldcover/x.tif?versionid=3",
			"https://ai4edataeuwest.blob.core.windows.net/esa-worldcover/x.tif?versionid=3&sv=x&sig=ai4edataeuwest-esa-worldcover-1"},
		{"already signed", "https://ai4edataeuwest.blob.core.windows.net/esa-worldcover/x.tif?se=1&sig=given",
			"https://ai4edataeuwest.blob.core.windows.net/esa-worldcover/x.tif?se=1&sig=given"},
		{"trusted emulator", "http://127.0.0.1:10000/devstoreaccount1/esa/x.tif",
			"http://127.0.0.1:10000/devstoreaccount1/esa/x.tif?sv=x&sig=devstoreaccount1-esa-1"},
		{"untrusted emulator port", "http://127.0.0.1:10001/devstoreaccount1/esa/x.tif",
			"http://127.0.0.1:10001/devstoreaccount1/esa/x.tif"},
		{"plain http blob host", "http://ai4edataeuwest.blob.core.windows.net/esa-worldcover/x.tif",
			"http://ai4edataeuwest.blob.core.windows.net/esa-worldcover/x.tif"},
		{"foreign host", "https://esa-worldcover.s3.eu-central-1.amazonaws.com/v200/x.tif",
			"https://esa-worldcover.s3.eu-central-1.amazonaws.com/v200/x.tif"},
		{"look-alike host", "https://ai4edataeuwest.blob.core.windows.net.example.org/esa-worldcover/x.tif",
			"https://ai4edataeuwest.blob.core.windows.net.example.org/esa-worldcover/x.tif"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			c := &http.Client{Transport: &SASTransport{Source: &fakeSAS{}, Base: rec, Trusted: []string{"*.blob.core.windows.net", "127.0.0.1:10000"}}}
			resp, err := c.Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(rec.urls) != 1 || rec.urls[0] != tt.want {
				t.Errorf("sent %q, want %q", rec.urls, tt.want)
			}
			if got := resp.Request.URL.String(); got != tt.url {
				t.Errorf("the answer's request has URL %q, want the caller's %q", got, tt.url)
			}
		})
	}
}

// TestSASTransportRefusals: a 403 whose error code says the signature was
// not accepted renews the token once and replays; other 403s pass through
// with their body; a second refusal is ErrTokenRefused.
func TestSASTransportRefusals(t *testing.T) {
	const doc = `<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>m</Message></Error>`
	refuse := func(code string, inHeader bool) func(*http.Request) *http.Response {
		return func(r *http.Request) *http.Response {
			h := http.Header{}
			if inHeader {
				h.Set("x-ms-error-code", code)
			}
			return answer(r, http.StatusForbidden, h, fmt.Sprintf(doc, code))
		}
	}
	firstRefused := func(code string, inHeader bool) func(*http.Request) *http.Response {
		return func(r *http.Request) *http.Response {
			if strings.HasSuffix(r.URL.RawQuery, "-1") {
				return refuse(code, inHeader)(r)
			}
			return answer(r, http.StatusOK, nil, "tile")
		}
	}
	tests := []struct {
		name     string
		answer   func(*http.Request) *http.Response
		sent     int
		wantErr  error
		wantBody string
	}{
		{"AuthenticationFailed header", firstRefused("AuthenticationFailed", true), 2, nil, "tile"},
		{"AuthorizationFailure header (Azurite)", firstRefused("AuthorizationFailure", true), 2, nil, "tile"},
		{"AuthenticationFailed in the document only", firstRefused("AuthenticationFailed", false), 2, nil, "tile"},
		{"other 403 passes through", refuse("AccountIsDisabled", true), 1, nil, fmt.Sprintf(doc, "AccountIsDisabled")},
		{"other 403 without header keeps its body", refuse("InsufficientAccountPermissions", false), 1, nil, fmt.Sprintf(doc, "InsufficientAccountPermissions")},
		{"refused twice", refuse("AuthenticationFailed", true), 2, ErrTokenRefused, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{answer: tt.answer}
			c := &http.Client{Transport: &SASTransport{Source: &fakeSAS{}, Base: rec}}
			resp, err := c.Get("https://acct1.blob.core.windows.net/esa/x.tif")
			if len(rec.urls) != tt.sent {
				t.Errorf("requests sent: got %d, want %d", len(rec.urls), tt.sent)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || strings.Contains(err.Error(), "sig=") {
					t.Errorf("got %v, want %v, without the token", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != tt.wantBody {
				t.Errorf("body: got %q, want %q", body, tt.wantBody)
			}
		})
	}
}

// TestSASTransportRealTokens signs with a SASSource fed by the fake
// endpoint, whose tokens are real service SAS tokens.
func TestSASTransportRealTokens(t *testing.T) {
	pc, src, _ := newSAS(t, pctest.Options{}, SASConfig{})
	rec := &recorder{}
	c := &http.Client{Transport: &SASTransport{Source: src, Base: rec, Trusted: []string{"127.0.0.1:10000"}}}
	for range 3 {
		resp, err := c.Get("http://127.0.0.1:10000/devstoreaccount1/esa/x.tif")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	issued := pc.Issued()
	if len(issued) != 1 || len(rec.urls) != 3 || !strings.HasSuffix(rec.urls[2], "?"+issued[0]) {
		t.Errorf("got %d tokens and URLs %q, want one token on every URL", len(issued), rec.urls)
	}
}
