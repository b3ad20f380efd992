package terrascopetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcdl/wcdl/downloader/tiff"
)

const tile = "WORLDCOVER/ESA_WORLDCOVER_10M_2020_V100/MAP/ESA_WorldCover_10m_2020_v100_N00E006_Map/ESA_WorldCover_10m_2020_v100_N00E006_Map.tif"

// fakeTokens accepts the tokens in valid until RevokeAccess.
type fakeTokens struct {
	mu      sync.Mutex
	valid   map[string]bool
	revoked int
}

var _ Tokens = (*fakeTokens)(nil)

func newTokens(valid ...string) *fakeTokens {
	t := &fakeTokens{valid: make(map[string]bool)}
	for _, v := range valid {
		t.valid[v] = true
	}
	return t
}

func (t *fakeTokens) Valid(token string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.valid[token]
}

func (t *fakeTokens) RevokeAccess() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.valid)
	t.revoked++
}

func newServer(t *testing.T, tokens Tokens, opts ...Option) *Server {
	t.Helper()
	if tokens == nil {
		tokens = nilTokens
	}
	s := NewServer(tokens, opts...)
	t.Cleanup(s.Close)
	return s
}

// nilTokens stands for no Tokens at all: newServer(t, nil) passes a nil
// interface, not a nil *fakeTokens.
var nilTokens Tokens

// do sends a request and returns the response with its body read. A body
// read error is returned too, with what was read before it.
func do(t *testing.T, c *http.Client, method, u string, header map[string]string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = noRedirects
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func content(t *testing.T, s *Server, name string) []byte {
	t.Helper()
	b := make([]byte, s.Size(name))
	if _, err := s.Content(name).ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("Content(%q).ReadAt: %v", name, err)
	}
	return b
}

func TestContent(t *testing.T) {
	s := newServer(t, nil, WithSeed(7), WithSizeFunc(func(name string) int64 {
		if strings.HasPrefix(name, "big/") {
			return 5<<20 + 12345
		}
		return 300_000
	}))
	same := newServer(t, nil, WithSeed(7))
	other := newServer(t, nil, WithSeed(8))
	for _, name := range []string{tile, "big/x.tif", "data/readme.txt", "a/b.tif"} {
		t.Run(name, func(t *testing.T) {
			want := content(t, s, name)
			if got, want := int64(len(want)), s.Size(name); got != want {
				t.Fatalf("content length: got %d, want %d", got, want)
			}
			resp, body, err := do(t, nil, "GET", s.URL()+"/"+name, nil)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("GET: got %d, %v, want 200", resp.StatusCode, err)
			}
			if !bytes.Equal(body, want) {
				t.Fatalf("GET body differs from Content")
			}
			sum := sha256.Sum256(body)
			if got, want := s.SHA256(name), hex.EncodeToString(sum[:]); got != want {
				t.Fatalf("SHA256: got %s, want %s", got, want)
			}
			for _, alias := range []string{"/download/" + name, s.URL() + "/" + name} {
				if got, want := s.SHA256(alias), s.SHA256(name); got != want {
					t.Fatalf("SHA256(%q): got %s, want %s", alias, got, want)
				}
			}
			// Reading at odd offsets gives the same bytes.
			for _, off := range []int64{0, 1, 7, blockSize - 3, blockSize + 5, int64(len(want)) - 10} {
				p := make([]byte, 20)
				n, _ := s.Content(name).ReadAt(p, off)
				if !bytes.Equal(p[:n], want[off:off+int64(n)]) {
					t.Fatalf("ReadAt(%d) differs from the content", off)
				}
			}
			// Blocks differ from each other.
			if len(want) > 2*blockSize && bytes.Equal(want[blockSize:blockSize+64], want[2*blockSize:2*blockSize+64]) {
				t.Fatalf("blocks 1 and 2 start alike")
			}
			isTIFF := strings.HasSuffix(name, ".tif")
			err = tiff.Check(context.Background(), bytes.NewReader(want), int64(len(want)))
			if isTIFF && err != nil {
				t.Fatalf("tiff.Check: %v", err)
			}
			if !isTIFF && err == nil {
				t.Fatalf("tiff.Check of a non-TIFF name: got nil, want an error")
			}
			if isTIFF {
				cut := int64(len(want)) - 1000
				if err := tiff.Check(context.Background(), bytes.NewReader(want[:cut]), cut); !errors.Is(err, tiff.ErrTruncated) {
					t.Fatalf("tiff.Check of a cut file: got %v, want ErrTruncated", err)
				}
				if got := resp.Header.Get("Content-Type"); got != "image/tiff" {
					t.Fatalf("Content-Type: got %q, want image/tiff", got)
				}
			}
			if name == tile {
				// Same seed, same content; another seed, another.
				if got, want := same.SHA256(name), s.SHA256(name); s.Size(name) == same.Size(name) && got != want {
					t.Fatalf("same seed: got SHA256 %s, want %s", got, want)
				}
				if other.SHA256(name) == same.SHA256(name) {
					t.Fatalf("another seed: got the same content")
				}
			}
		})
	}
}

func TestRange(t *testing.T) {
	const size = 200_000
	s := newServer(t, nil, WithFileSize(size))
	full := content(t, s, tile)
	u := s.URL() + "/" + tile
	etag := s.ETag(tile)
	lastMod := baseModTime.Format(http.TimeFormat)
	stale := baseModTime.Add(-time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name         string
		method       string
		header       map[string]string
		rangeOff     bool
		wantStatus   int
		wantRange    string // Content-Range
		wantBody     []byte
		wantAccept   string // Accept-Ranges
		wantNoLength bool
	}{
		{name: "whole file", wantStatus: 200, wantBody: full, wantAccept: "bytes"},
		{name: "HEAD", method: "HEAD", wantStatus: 200, wantBody: []byte{}, wantAccept: "bytes"},
		{name: "a-b", header: map[string]string{"Range": "bytes=10-19"}, wantStatus: 206, wantRange: "bytes 10-19/200000", wantBody: full[10:20], wantAccept: "bytes"},
		{name: "a-", header: map[string]string{"Range": "bytes=150000-"}, wantStatus: 206, wantRange: "bytes 150000-199999/200000", wantBody: full[150000:], wantAccept: "bytes"},
		{name: "-n", header: map[string]string{"Range": "bytes=-50"}, wantStatus: 206, wantRange: "bytes 199950-199999/200000", wantBody: full[size-50:], wantAccept: "bytes"},
		{name: "b past end", header: map[string]string{"Range": "bytes=199990-300000"}, wantStatus: 206, wantRange: "bytes 199990-199999/200000", wantBody: full[199990:], wantAccept: "bytes"},
		{name: "unsatisfiable", header: map[string]string{"Range": "bytes=200000-"}, wantStatus: 416, wantRange: "bytes */200000"},
		{name: "If-Range current ETag", header: map[string]string{"Range": "bytes=5-9", "If-Range": etag}, wantStatus: 206, wantRange: "bytes 5-9/200000", wantBody: full[5:10], wantAccept: "bytes"},
		{name: "If-Range stale ETag", header: map[string]string{"Range": "bytes=5-9", "If-Range": `"0123"`}, wantStatus: 200, wantBody: full, wantAccept: "bytes"},
		{name: "If-Range current date", header: map[string]string{"Range": "bytes=5-9", "If-Range": lastMod}, wantStatus: 206, wantRange: "bytes 5-9/200000", wantBody: full[5:10], wantAccept: "bytes"},
		{name: "If-Range stale date", header: map[string]string{"Range": "bytes=5-9", "If-Range": stale}, wantStatus: 200, wantBody: full, wantAccept: "bytes"},
		{name: "Range off", rangeOff: true, header: map[string]string{"Range": "bytes=5-9"}, wantStatus: 200, wantBody: full},
		{name: "Range off unsatisfiable", rangeOff: true, header: map[string]string{"Range": "bytes=900000-"}, wantStatus: 200, wantBody: full},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.SetRange(!tt.rangeOff)
			defer s.SetRange(true)
			before := s.Stats()
			method := tt.method
			if method == "" {
				method = "GET"
			}
			resp, body, err := do(t, nil, method, u, tt.header)
			if err != nil {
				t.Fatalf("reading body: %v", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Content-Range"); got != tt.wantRange {
				t.Fatalf("Content-Range: got %q, want %q", got, tt.wantRange)
			}
			if got := resp.Header.Get("Accept-Ranges"); got != tt.wantAccept {
				t.Fatalf("Accept-Ranges: got %q, want %q", got, tt.wantAccept)
			}
			if tt.wantBody != nil {
				if !bytes.Equal(body, tt.wantBody) {
					t.Fatalf("body: got %d bytes, want %d bytes of the file", len(body), len(tt.wantBody))
				}
				if got, want := resp.Header.Get("Content-Length"), strconv.Itoa(len(tt.wantBody)); method == "GET" && got != want {
					t.Fatalf("Content-Length: got %q, want %q", got, want)
				}
				if got := resp.Header.Get("ETag"); got != etag {
					t.Fatalf("ETag: got %q, want %q", got, etag)
				}
				if got := resp.Header.Get("Last-Modified"); got != lastMod {
					t.Fatalf("Last-Modified: got %q, want %q", got, lastMod)
				}
			}
			after := s.Stats()
			if got, want := after.BytesServed-before.BytesServed, int64(len(body)); got != want {
				t.Fatalf("BytesServed grew by %d, want %d", got, want)
			}
			wantRanges := int64(0)
			if tt.header["Range"] != "" {
				wantRanges = 1
			}
			if got := after.RangeRequests - before.RangeRequests; got != wantRanges {
				t.Fatalf("RangeRequests grew by %d, want %d", got, wantRanges)
			}
			if got := after.ByStatus[tt.wantStatus] - before.ByStatus[tt.wantStatus]; got != 1 {
				t.Fatalf("ByStatus[%d] grew by %d, want 1", tt.wantStatus, got)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		name             string
		opts             []Option
		wantETag, wantLM bool
	}{
		{name: "both", wantETag: true, wantLM: true},
		{name: "no ETag", opts: []Option{WithETag(false)}, wantLM: true},
		{name: "no Last-Modified", opts: []Option{WithLastModified(false)}, wantETag: true},
		{name: "neither", opts: []Option{WithETag(false), WithLastModified(false)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, nil, append(tt.opts, WithFileSize(1000))...)
			resp, _, err := do(t, nil, "GET", s.URL()+"/"+tile, nil)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("GET: got %d, %v, want 200", resp.StatusCode, err)
			}
			if got := resp.Header.Get("ETag") != ""; got != tt.wantETag {
				t.Errorf("ETag present: got %v, want %v", got, tt.wantETag)
			}
			if got := resp.Header.Get("Last-Modified") != ""; got != tt.wantLM {
				t.Errorf("Last-Modified present: got %v, want %v", got, tt.wantLM)
			}
		})
	}
}

func TestBump(t *testing.T) {
	s := newServer(t, nil, WithFileSize(100_000))
	u := s.URL() + "/" + tile
	old := content(t, s, tile)
	oldETag, oldSum := s.ETag(tile), s.SHA256(tile)
	if got := s.Bump(tile); got != 1 {
		t.Fatalf("Bump: got version %d, want 1", got)
	}
	if s.ETag(tile) == oldETag || s.SHA256(tile) == oldSum || bytes.Equal(content(t, s, tile), old) {
		t.Fatalf("after Bump: ETag, SHA256 or content unchanged")
	}
	resp, body, err := do(t, nil, "GET", u, map[string]string{"Range": "bytes=100-", "If-Range": oldETag})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET with stale If-Range: got %d, %v, want 200", resp.StatusCode, err)
	}
	if !bytes.Equal(body, content(t, s, tile)) {
		t.Fatalf("body is not the new version")
	}
	if got, want := resp.Header.Get("Last-Modified"), baseModTime.Add(24*time.Hour).Format(http.TimeFormat); got != want {
		t.Fatalf("Last-Modified: got %q, want %q", got, want)
	}
	s.SetVersion("/download/"+tile, 0)
	if got := s.ETag(tile); got != oldETag {
		t.Fatalf("SetVersion(0): got ETag %s, want %s", got, oldETag)
	}
}

func TestAuth(t *testing.T) {
	const good = "good-token"
	tests := []struct {
		name          string
		opts          []Option
		authorization string
		wantStatus    int
		wantChallenge string
		wantLocation  []string // parts of Location
	}{
		{name: "valid", authorization: "Bearer " + good, wantStatus: 200},
		{name: "missing", wantStatus: 401, wantChallenge: `Bearer realm="terrascope"`},
		{name: "invalid", authorization: "Bearer nope", wantStatus: 401, wantChallenge: `Bearer realm="terrascope", error="invalid_token"`},
		{name: "basic", authorization: "Basic dXNlcjpwYXNz", wantStatus: 401, wantChallenge: `Bearer realm="terrascope"`},
		{name: "login redirect", opts: []Option{WithLoginRedirect("https://sso.example/auth/login")}, wantStatus: 302,
			wantLocation: []string{"https://sso.example/auth/login?", "client_id=terrascope-download", "redirect_uri=http%3A%2F%2F127.0.0.1"}},
		{name: "valid with login redirect", opts: []Option{WithLoginRedirect("https://sso.example/auth/login")}, authorization: "Bearer " + good, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, newTokens(good), append(tt.opts, WithFileSize(1000))...)
			h := map[string]string{}
			if tt.authorization != "" {
				h["Authorization"] = tt.authorization
			}
			resp, body, err := do(t, nil, "GET", s.URL()+"/"+tile, h)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.wantChallenge {
				t.Fatalf("WWW-Authenticate: got %q, want %q", got, tt.wantChallenge)
			}
			for _, part := range tt.wantLocation {
				if got := resp.Header.Get("Location"); !strings.Contains(got, part) {
					t.Fatalf("Location: got %q, want it to contain %q", got, part)
				}
			}
			if bytes.Contains(body, []byte(good)) {
				t.Fatalf("body contains the token")
			}
			wantSeen := int64(0)
			if tt.authorization != "" {
				wantSeen = 1
			}
			if got := s.Stats().AuthorizationSeen; got != wantSeen {
				t.Fatalf("AuthorizationSeen: got %d, want %d", got, wantSeen)
			}
		})
	}
}

func TestRevokeEvery(t *testing.T) {
	tokens := newTokens("t1")
	s := newServer(t, tokens, WithFileSize(1000), WithRevokeEvery(2))
	get := func(token string) int {
		resp, _, err := do(t, nil, "GET", s.URL()+"/"+tile, map[string]string{"Authorization": "Bearer " + token})
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	want := []int{200, 200, 401}
	for i, w := range want {
		if got := get("t1"); got != w {
			t.Fatalf("request %d: got %d, want %d", i+1, got, w)
		}
	}
	tokens.mu.Lock()
	tokens.valid["t2"] = true
	tokens.mu.Unlock()
	if got := get("t2"); got != 200 {
		t.Fatalf("with a new token: got %d, want 200", got)
	}
	if got := s.Stats().Revocations; got != 1 {
		t.Fatalf("Revocations: got %d, want 1", got)
	}
	if got := get("t2"); got != 200 {
		t.Fatalf("fourth download: got %d, want 200", got)
	}
	if got := get("t2"); got != 401 {
		t.Fatalf("after the fourth download: got %d, want 401", got)
	}
	if tokens.revoked != 2 {
		t.Fatalf("RevokeAccess calls: got %d, want 2", tokens.revoked)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name       string
		opts       []Option
		path       string // default: tile
		method     string
		wantStatus int
		wantHeader map[string]string
		wantBody   string // a part of the body
		wantErr    bool   // the body read must fail
		check      func(t *testing.T, s *Server, body []byte)
	}{
		{name: "503", opts: []Option{WithFail503(1)}, wantStatus: 503, wantBody: "503 Service Temporarily Unavailable"},
		{name: "429", opts: []Option{WithFail429(1, 1500*time.Millisecond)}, wantStatus: 429,
			wantHeader: map[string]string{"Retry-After": "2"}, wantBody: "429 Too Many Requests"},
		{name: "HTML", opts: []Option{WithHTML(1)}, wantStatus: 200, wantHeader: map[string]string{"Content-Type": "text/html; charset=utf-8"},
			wantBody: "<!DOCTYPE html>", check: func(t *testing.T, s *Server, body []byte) {
				if err := tiff.Check(context.Background(), bytes.NewReader(body), int64(len(body))); !errors.Is(err, tiff.ErrNotTIFF) {
					t.Fatalf("tiff.Check of the login page: got %v, want ErrNotTIFF", err)
				}
			}},
		{name: "not found", opts: []Option{WithNotFound(func(name string) bool { return strings.Contains(name, "S90") })},
			path: "WORLDCOVER/x/S90E000.tif", wantStatus: 404, wantBody: "404 Not Found"},
		{name: "found beside not found", opts: []Option{WithNotFound(func(name string) bool { return strings.Contains(name, "S90") })},
			wantStatus: 200},
		{name: "outside /download/", path: "../other/x.tif", wantStatus: 404},
		{name: "folder", path: "WORLDCOVER/", wantStatus: 404},
		{name: "POST", method: "POST", wantStatus: 405, wantHeader: map[string]string{"Allow": "GET, HEAD"}},
		{name: "cut body", opts: []Option{WithCutBody(1)}, wantStatus: 200, wantErr: true,
			check: func(t *testing.T, s *Server, body []byte) {
				if int64(len(body)) >= s.Size(tile) {
					t.Fatalf("got %d bytes, want fewer than %d", len(body), s.Size(tile))
				}
				if !bytes.Equal(body, content(t, s, tile)[:len(body)]) {
					t.Fatalf("the bytes before the cut differ from the content")
				}
				if got := s.Stats(); got.CutBodies != 1 || got.BytesServed != int64(len(body)) {
					t.Fatalf("CutBodies, BytesServed: got %d, %d, want 1, %d", got.CutBodies, got.BytesServed, len(body))
				}
			}},
		{name: "HEAD is never cut", method: "HEAD", opts: []Option{WithCutBody(1)}, wantStatus: 200,
			check: func(t *testing.T, s *Server, body []byte) {
				if got := s.Stats().CutBodies; got != 0 {
					t.Fatalf("CutBodies: got %d, want 0", got)
				}
			}},
		{name: "latency", opts: []Option{WithLatency(30 * time.Millisecond)}, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, nil, append(tt.opts, WithFileSize(300_000))...)
			path, method := tt.path, tt.method
			if path == "" {
				path = tile
			}
			if method == "" {
				method = "GET"
			}
			start := time.Now()
			resp, body, err := do(t, nil, method, s.URL()+"/"+path, nil)
			if tt.wantErr && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("reading body: got %v, want unexpected EOF", err)
			}
			if !tt.wantErr && err != nil {
				t.Fatalf("reading body: %v", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Fatalf("%s: got %q, want %q", k, got, v)
				}
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Fatalf("body: got %.80q, want it to contain %q", body, tt.wantBody)
			}
			if tt.name == "latency" && time.Since(start) < 30*time.Millisecond {
				// A lower bound only: a timer never fires early.
				t.Fatalf("answered after %v, want at least 30ms", time.Since(start))
			}
			if got := s.Stats().ByStatus[tt.wantStatus]; got != 1 {
				t.Fatalf("ByStatus[%d]: got %d, want 1", tt.wantStatus, got)
			}
			if tt.check != nil {
				tt.check(t, s, body)
			}
		})
	}
}

func TestEarlyRetries(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	s := newServer(t, nil, WithFileSize(1000), WithFail429(1, 10*time.Second), WithClock(clock))
	get := func(name string) {
		resp, _, err := do(t, nil, "GET", s.URL()+"/"+name, nil)
		if err != nil || resp.StatusCode != 429 {
			t.Fatalf("GET: got %d, %v, want 429", resp.StatusCode, err)
		}
	}
	steps := []struct {
		name      string
		advance   time.Duration
		wantEarly int64
	}{
		{name: tile, wantEarly: 0},        // first request
		{name: tile, wantEarly: 1},        // at once
		{name: "other.tif", wantEarly: 1}, // another path has no Retry-After yet
		{name: tile, advance: 9 * time.Second, wantEarly: 2},
		{name: tile, advance: 10 * time.Second, wantEarly: 2}, // waited the full Retry-After
		{name: "other.tif", advance: 10 * time.Second, wantEarly: 2},
	}
	for i, st := range steps {
		advance(st.advance)
		get(st.name)
		if got := s.Stats().EarlyRetries; got != st.wantEarly {
			t.Fatalf("step %d: EarlyRetries got %d, want %d", i, got, st.wantEarly)
		}
	}
}

func TestRedirectTo(t *testing.T) {
	const good = "good"
	cdn := newServer(t, nil, WithFileSize(5000))
	s := newServer(t, newTokens(good), WithFileSize(5000), WithRedirectTo(cdn.URL()))
	resp, _, err := do(t, nil, "GET", s.URL()+"/"+tile, map[string]string{"Authorization": "Bearer " + good})
	if err != nil || resp.StatusCode != 302 {
		t.Fatalf("GET: got %d, %v, want 302", resp.StatusCode, err)
	}
	if got, want := resp.Header.Get("Location"), cdn.URL()+"/"+tile; got != want {
		t.Fatalf("Location: got %q, want %q", got, want)
	}
	resp, body, err := do(t, http.DefaultClient, "GET", s.URL()+"/"+tile, map[string]string{"Authorization": "Bearer " + good})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET following redirects: got %d, %v, want 200", resp.StatusCode, err)
	}
	if !bytes.Equal(body, content(t, cdn, tile)) {
		t.Fatalf("body differs from the other server's content")
	}
	resp, _, _ = do(t, nil, "GET", s.URL()+"/"+tile, nil)
	if resp.StatusCode != 401 {
		t.Fatalf("GET without a token: got %d, want 401 before any redirect", resp.StatusCode)
	}
}

// TestBandwidth checks the cap holds a large body back: with 1 KB/s, the
// server cannot have sent a 1 MB file when the client has read its first
// bytes.
func TestBandwidth(t *testing.T) {
	const size = 1 << 20
	s := NewServer(nil, WithFileSize(size), WithBandwidth(1000))
	defer s.Close() // again, if the test fails before Close
	req, _ := http.NewRequest("GET", s.URL()+"/"+tile, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := make([]byte, 50)
	if _, err := io.ReadFull(resp.Body, p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p, content(t, s, tile)[:50]) {
		t.Fatalf("first bytes differ from the content")
	}
	if got := s.Stats().BytesServed; got >= size/2 {
		t.Fatalf("BytesServed: got %d, want far fewer than %d", got, size)
	}
	// Closing the server must not wait for the slow body, and the
	// client must see the body end early.
	s.Close()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatalf("reading the rest after Close: got no error, want one")
	}
}

// TestConcurrentRanges fetches one file in parallel ranges, as a
// segmented downloader does.
func TestConcurrentRanges(t *testing.T) {
	const size, parts = 1<<20 + 17, 8
	s := newServer(t, nil, WithFileSize(size))
	want := content(t, s, tile)
	got := make([]byte, size)
	errs := make(chan error, parts)
	for i := range parts {
		go func() {
			a, b := i*size/parts, (i+1)*size/parts-1
			req, _ := http.NewRequest("GET", s.URL()+"/"+tile, nil)
			req.Header.Set("Range", "bytes="+strconv.Itoa(a)+"-"+strconv.Itoa(b))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != 206 {
				errs <- errors.New(resp.Status)
				return
			}
			_, err = io.ReadFull(resp.Body, got[a:b+1])
			errs <- err
		}()
	}
	for range parts {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("assembled ranges differ from the content")
	}
	if err := tiff.Check(context.Background(), bytes.NewReader(got), size); err != nil {
		t.Fatalf("tiff.Check: %v", err)
	}
}

// TestReproducible checks that the same seed gives the same faults.
func TestReproducible(t *testing.T) {
	run := func(seed int64) string {
		s := newServer(t, nil, WithFileSize(200), WithSeed(seed), WithFail503(0.3), WithFail429(0.3, time.Second))
		var got []string
		for range 30 {
			resp, _, err := do(t, nil, "GET", s.URL()+"/x.tif", nil)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, strconv.Itoa(resp.StatusCode))
		}
		return strings.Join(got, " ")
	}
	a, b, c := run(1), run(1), run(2)
	if a != b {
		t.Fatalf("same seed: got %s and %s", a, b)
	}
	if a == c {
		t.Fatalf("another seed: got the same statuses %s", a)
	}
	for _, code := range []string{"200", "503", "429"} {
		if !strings.Contains(a, code) {
			t.Fatalf("statuses %s: want some %s", a, code)
		}
	}
}

func TestStats(t *testing.T) {
	s := newServer(t, newTokens("ok"), WithFileSize(4000))
	var read int64
	for _, h := range []map[string]string{
		{"Authorization": "Bearer ok"},
		{"Authorization": "Bearer ok", "Range": "bytes=0-99"},
		{"Authorization": "Bearer nope"},
		{},
	} {
		_, body, err := do(t, nil, "GET", s.URL()+"/"+tile, h)
		if err != nil {
			t.Fatal(err)
		}
		read += int64(len(body))
	}
	do(t, nil, "HEAD", s.URL()+"/"+tile, map[string]string{"Authorization": "Bearer ok"})
	got := s.Stats()
	want := Stats{Requests: 5, ByStatus: map[int]int64{200: 2, 206: 1, 401: 2}, BytesServed: read, AuthorizationSeen: 4, RangeRequests: 1, Connections: 1, MaxInFlight: 1}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Stats: got %+v, want %+v", got, want)
	}
	got.ByStatus[200] = 99
	if s.Stats().ByStatus[200] != 2 {
		t.Fatalf("Stats().ByStatus is not a copy")
	}
}

func TestWithListener(t *testing.T) {
	l := mustListen(t)
	s := newServer(t, nil, WithListener(l), WithFileSize(500))
	if got, want := s.Host(), l.Addr().String(); got != want {
		t.Fatalf("Host: got %q, want %q", got, want)
	}
	u, err := url.Parse(s.URL())
	if err != nil || u.Path != "/download" || u.Host != s.Host() {
		t.Fatalf("URL: got %q, want http://%s/download", s.URL(), s.Host())
	}
	resp, _, err := do(t, nil, "GET", s.URL()+"/x.tif", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET: got %d, %v, want 200", resp.StatusCode, err)
	}
}

// TestWaitFor: a WaitFor channel closes once its condition holds, at once
// if it already does, and not before.
func TestWaitFor(t *testing.T) {
	s := newServer(t, nil, WithFileSize(3000))
	if _, ok := <-s.WaitFor(func(st Stats) bool { return st.Requests == 0 }); ok {
		t.Fatal("a condition that holds now: the channel should be closed")
	}
	second := s.WaitFor(func(st Stats) bool { return st.Requests >= 2 })
	bytes := s.WaitFor(func(st Stats) bool { return st.BytesServed >= 6000 })
	for i := range 2 {
		select {
		case <-second:
			t.Fatalf("closed after %d requests, want 2", i)
		default:
		}
		resp, err := http.Get(s.URL() + "/f.tif")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	<-second // the test would hang, and time out, if it never closed
	<-bytes
	if n := s.nwaiters.Load(); n != 0 {
		t.Errorf("%d waiters left after their conditions held, want 0", n)
	}
}

// TestHold: a held body stops after n bytes that the client can read, is
// counted in Stats.Held, and goes on after Release; a body shorter than n
// and an error page are not held.
func TestHold(t *testing.T) {
	const size, n = 100 << 10, 10 << 10
	s := newServer(t, nil, WithFileSize(size))
	s.Hold(n)
	resp, err := http.Get(s.URL() + "/" + tile)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	head := make([]byte, n)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatalf("reading the first %d bytes: %v", n, err)
	}
	<-s.WaitFor(func(st Stats) bool { return st.Held == 1 })
	if got := s.Stats().BytesServed; got != n {
		t.Errorf("BytesServed while held: got %d, want %d", got, n)
	}
	// An error page passes while bodies are held.
	if resp404, _, err := do(t, nil, "GET", s.URL()+"/", nil); err != nil || resp404.StatusCode != 404 {
		t.Fatalf("error page while holding: %v, %v", resp404, err)
	}
	s.Release()
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	got := append(head, rest...)
	if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != s.SHA256(tile) || len(got) != size {
		t.Errorf("body after Release: %d bytes, not the file", len(got))
	}
	<-s.WaitFor(func(st Stats) bool { return st.Held == 0 })
}

// TestReleaseHeld: ReleaseHeld lets the body held now through to its end,
// without pausing it again, and holds the next body as Hold did.
func TestReleaseHeld(t *testing.T) {
	const size, n = 100 << 10, 10 << 10
	s := newServer(t, nil, WithFileSize(size))
	s.Hold(n)
	get := func(want int64) *http.Response {
		t.Helper()
		resp, err := http.Get(s.URL() + "/" + tile)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		<-s.WaitFor(func(st Stats) bool { return st.Held == want })
		return resp
	}
	readAll := func(resp *http.Response) {
		t.Helper()
		b, err := io.ReadAll(resp.Body)
		if err != nil || len(b) != size {
			t.Fatalf("body: got %d bytes (%v), want %d", len(b), err, size)
		}
	}
	first := get(1)
	s.ReleaseHeld()
	readAll(first) // would hang, and time out, if it paused again
	if got := s.Stats().Held; got != 0 {
		t.Errorf("Held after the first body's end: got %d, want 0", got)
	}
	second := get(1) // would hang if ReleaseHeld stopped holding
	if got := s.Stats().BytesServed; got != size+n {
		t.Errorf("BytesServed with the second body held: got %d, want %d", got, size+n)
	}
	s.Release()
	readAll(second)
}

func TestRevokeRefusing(t *testing.T) {
	t.Run("every download", func(t *testing.T) {
		tokens := newTokens("t1")
		s := newServer(t, tokens, WithFileSize(1000), WithRevokeRefusing(1))
		// The first download revokes t1 and is refused; the second is
		// refused for want of a valid token, and revokes nothing more.
		for i := range 2 {
			if got := get(t, s, "t1"); got != http.StatusUnauthorized {
				t.Fatalf("request %d: got %d, want 401", i+1, got)
			}
		}
		if got := s.Stats().Revocations; got != 1 || tokens.revoked != 1 {
			t.Fatalf("Revocations: got %d (%d calls), want 1", got, tokens.revoked)
		}
	})
	t.Run("one in four", func(t *testing.T) {
		tokens := newTokens()
		s := newServer(t, tokens, WithFileSize(1000), WithRevokeRefusing(4))
		const n = 400
		refused := 0
		for i := range n {
			tok := fmt.Sprint("t", i)
			tokens.mu.Lock()
			tokens.valid[tok] = true
			tokens.mu.Unlock()
			if get(t, s, tok) == http.StatusUnauthorized {
				refused++
			}
		}
		if got := s.Stats().Revocations; got != int64(refused) || refused < n/8 || refused > n/2 {
			t.Fatalf("%d revocations, %d of %d downloads refused; want as many, about a quarter", got, refused, n)
		}
	})
}

// get downloads the tile with token and returns the status.
func get(t *testing.T, s *Server, token string) int {
	t.Helper()
	resp, _, err := do(t, nil, "GET", s.URL()+"/"+tile, map[string]string{"Authorization": "Bearer " + token})
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}
