package blobtest

import (
	"crypto/md5"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wcdl/wcdl/auth/pctest"
)

const name = "v200/2021/map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif"

// clock is a settable test clock, safe to set while the server reads it.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}

func (c *clock) set(t time.Time) { c.t.Store(&t) }
func (c *clock) now() time.Time  { return *c.t.Load() }

func TestServer(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	s := NewServer(pctest.DevAccount, pctest.DevKey, "esa-worldcover", WithNow(clk.now))
	defer s.Close()
	body := []byte(strings.Repeat("0123456789", 100))
	s.Put(name, body)
	sum := md5.Sum(body)
	wantMD5 := base64.StdEncoding.EncodeToString(sum[:])

	sas := func(container string, start, expiry time.Time) string {
		tok, err := pctest.ContainerSAS(pctest.DevAccount, pctest.DevKey, container, "rl", start, expiry)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := sas("esa-worldcover", clk.now().Add(-15*time.Minute), clk.now().Add(20*time.Second))
	expired := sas("esa-worldcover", clk.now().Add(-15*time.Minute), clk.now().Add(-time.Second))
	notYet := sas("esa-worldcover", clk.now().Add(time.Minute), clk.now().Add(time.Hour))
	other := sas("other", time.Time{}, clk.now().Add(time.Hour))
	forged := strings.Replace(good, "sig=", "sig=AAAA", 1)
	otherKey, err := pctest.ContainerSAS(pctest.DevAccount, base64.StdEncoding.EncodeToString([]byte("another key")), "esa-worldcover", "rl", time.Time{}, clk.now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	blobURL := s.URL() + "/" + name

	for _, tc := range []struct {
		name, method, url, rng string
		code                   int
		errCode                string
		headers                map[string]string // "" means absent
		body                   string
	}{
		{name: "whole", method: "GET", url: blobURL + "?" + good, code: 200,
			headers: map[string]string{"Content-MD5": wantMD5, "x-ms-blob-content-md5": wantMD5, "x-ms-blob-type": "BlockBlob", "Content-Length": "1000"},
			body:    string(body)},
		{name: "head", method: "HEAD", url: blobURL + "?" + good, code: 200,
			headers: map[string]string{"Content-MD5": wantMD5, "x-ms-blob-content-md5": "", "Content-Length": "1000"}},
		{name: "range", method: "GET", url: blobURL + "?" + good, rng: "bytes=10-19", code: 206,
			headers: map[string]string{"Content-Range": "bytes 10-19/1000", "Content-MD5": "", "x-ms-blob-content-md5": wantMD5, "Content-Length": "10"},
			body:    "0123456789"},
		{name: "open range", method: "GET", url: blobURL + "?" + good, rng: "bytes=995-", code: 206,
			headers: map[string]string{"Content-Range": "bytes 995-999/1000"}, body: "56789"},
		{name: "range past the end", method: "GET", url: blobURL + "?" + good, rng: "bytes=1000-", code: 416, errCode: "InvalidRange",
			headers: map[string]string{"Content-Range": "bytes */1000"}},
		{name: "missing blob", method: "GET", url: s.URL() + "/v200/none.tif?" + good, code: 404, errCode: "BlobNotFound"},
		{name: "missing blob head", method: "HEAD", url: s.URL() + "/v200/none.tif?" + good, code: 404, errCode: "BlobNotFound"},
		{name: "no SAS", method: "GET", url: blobURL, code: 403, errCode: AuthenticationFailed},
		{name: "expired", method: "GET", url: blobURL + "?" + expired, code: 403, errCode: AuthenticationFailed},
		{name: "not yet valid", method: "GET", url: blobURL + "?" + notYet, code: 403, errCode: AuthenticationFailed},
		{name: "forged", method: "GET", url: blobURL + "?" + forged, code: 403, errCode: AuthenticationFailed},
		{name: "other container's", method: "GET", url: blobURL + "?" + other, code: 403, errCode: AuthenticationFailed},
		{name: "other key", method: "GET", url: blobURL + "?" + otherKey, code: 403, errCode: AuthenticationFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.rng != "" {
				req.Header.Set("Range", tc.rng)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.code {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.code)
			}
			if g := resp.Header.Get("x-ms-error-code"); g != tc.errCode {
				t.Errorf("x-ms-error-code: got %q, want %q", g, tc.errCode)
			}
			if resp.Header.Get("x-ms-request-id") == "" {
				t.Error("no x-ms-request-id")
			}
			for k, want := range tc.headers {
				if g := resp.Header.Get(k); g != want {
					t.Errorf("%s: got %q, want %q", k, g, want)
				}
			}
			if tc.errCode != "" && tc.method == "GET" && !strings.Contains(string(got), "<Code>"+tc.errCode+"</Code>") {
				t.Errorf("body: got %q, want the error document with code %s", got, tc.errCode)
			}
			if tc.body != "" && string(got) != tc.body {
				t.Errorf("body: got %d bytes %.20q, want %d bytes %.20q", len(got), got, len(tc.body), tc.body)
			}
			if tc.code < 300 {
				if et := resp.Header.Get("ETag"); !strings.HasPrefix(et, `"0x`) || !strings.HasSuffix(et, `"`) {
					t.Errorf("ETag: got %q, want a quoted 0x... tag", et)
				}
			}
		})
	}
	if got := s.Stats().Refused; got != 6 {
		t.Errorf("Stats().Refused: got %d, want 6", got)
	}
}

// TestTokenExpiresWithClock: the same token is accepted until its expiry
// and refused after it.
func TestTokenExpiresWithClock(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	s := NewServer(pctest.DevAccount, pctest.DevKey, "esa-worldcover", WithNow(clk.now), WithRefusalCode(AuthorizationFailure))
	defer s.Close()
	s.Put(name, []byte("tile"))
	tok, err := pctest.ContainerSAS(pctest.DevAccount, pctest.DevKey, "esa-worldcover", "rl", time.Time{}, clk.now().Add(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		after   time.Duration
		code    int
		errCode string
	}{
		{0, 200, ""},
		{20 * time.Second, 200, ""},
		{21 * time.Second, 403, AuthorizationFailure},
	} {
		clk.set(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC).Add(tc.after))
		resp, err := http.Get(s.URL() + "/" + name + "?" + tok)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code || resp.Header.Get("x-ms-error-code") != tc.errCode {
			t.Errorf("%v after: got %d %q, want %d %q", tc.after, resp.StatusCode, resp.Header.Get("x-ms-error-code"), tc.code, tc.errCode)
		}
	}
}
