package downloader

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/wcdl/wcdl/downloader/tiff"
	"github.com/wcdl/wcdl/manifest"
)

// newTest returns a Downloader on a fresh folder with tiny backoff waits.
func newTest(t testing.TB, cfg Config) *Downloader {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.RetryWaitMin == 0 {
		cfg.RetryWaitMin = time.Millisecond
	}
	if cfg.RetryMaxWait == 0 {
		cfg.RetryMaxWait = 5 * time.Millisecond
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func entry(url, name string) manifest.Entry {
	return manifest.Entry{Raw: name, URL: url, Name: name, Size: -1}
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// run runs d on entries and fails the test if Run returns an error.
func run(t *testing.T, d *Downloader, entries ...manifest.Entry) []Result {
	t.Helper()
	res, err := d.Run(context.Background(), entries)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(res) != len(entries) {
		t.Fatalf("got %d results, want %d", len(res), len(entries))
	}
	return res
}

// checkFile fails unless path holds want and no temporary file is left.
func checkFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("final file: %v", err)
	}
	if sha(got) != sha(want) {
		t.Errorf("%s: got %d bytes (sha %s), want %d bytes (sha %s)", path, len(got), sha(got)[:8], len(want), sha(want)[:8])
	}
	checkNoTemp(t, path)
}

// forProtocols runs f as subtests name/http, name/https and name/https-h2.
func forProtocols(t *testing.T, name string, f func(t *testing.T, p protocol)) {
	for _, p := range protocols {
		t.Run(name+"/"+p.name, func(t *testing.T) { f(t, p) })
	}
}

func checkNoTemp(t *testing.T, path string) {
	t.Helper()
	for _, suffix := range []string{".part", ".part.meta", ".lock"} {
		if _, err := os.Stat(path + suffix); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s%s left behind (stat error %v)", path, suffix, err)
		}
	}
}

func TestDownloadVerifies(t *testing.T) {
	data := content(300<<10, 1)
	tifData := tiffFile(t, 200<<10)
	tests := []struct {
		name     string
		file     *fakeFile
		edit     func(e *manifest.Entry)
		wantErr  error // nil: downloaded
		wantAtts int
	}{
		{name: "plain", file: &fakeFile{data: data}, wantAtts: 1},
		{name: "size sha256 md5 match", file: &fakeFile{data: data}, wantAtts: 1, edit: func(e *manifest.Entry) {
			e.Size, e.SHA256, e.MD5 = int64(len(data)), strings.ToUpper(sha(data)), md5hex(data)
		}},
		{name: "sha256 mismatch", file: &fakeFile{data: data}, wantErr: ErrChecksum, wantAtts: 3, edit: func(e *manifest.Entry) {
			e.SHA256 = sha([]byte("other"))
		}},
		{name: "md5 mismatch", file: &fakeFile{data: data}, wantErr: ErrChecksum, wantAtts: 3, edit: func(e *manifest.Entry) {
			e.MD5 = md5hex([]byte("other"))
		}},
		{name: "manifest size differs", file: &fakeFile{data: data}, wantErr: ErrSizeMismatch, wantAtts: 1, edit: func(e *manifest.Entry) {
			e.Size = int64(len(data)) + 1
		}},
		{name: "tif complete", file: &fakeFile{data: tifData}, wantAtts: 1},
		// A tile truncated at the source: lengths agree, the structure does not.
		{name: "tif truncated", file: &fakeFile{data: tifData[:len(tifData)-1000]}, wantErr: ErrCorrupt, wantAtts: 3},
	}
	for _, tt := range tests {
		forProtocols(t, tt.name, func(t *testing.T, p protocol) {
			s := newFakeService(t, p)
			name := "f.bin"
			if bytesHasTIFF(tt.file.data) {
				name = "tile.tif"
			}
			e := entry(s.add("/"+name, tt.file), name)
			if tt.edit != nil {
				tt.edit(&e)
			}
			d := newTest(t, s.cfg(Config{Attempts: 3}))
			r := run(t, d, e)[0]
			if r.Attempts != tt.wantAtts {
				t.Errorf("Attempts = %d, want %d", r.Attempts, tt.wantAtts)
			}
			if tt.wantErr != nil {
				if r.Status != Failed || !errors.Is(r.Err, tt.wantErr) {
					t.Fatalf("got %s, %v; want failed with %v", r.Status, r.Err, tt.wantErr)
				}
				if _, err := os.Stat(r.Path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("final file exists after a failed verification")
				}
				checkNoTemp(t, r.Path)
				return
			}
			if r.Status != Downloaded || r.Err != nil {
				t.Fatalf("got %s, %v; want downloaded", r.Status, r.Err)
			}
			checkFile(t, r.Path, tt.file.data)
			if r.SHA256 != sha(tt.file.data) || r.Size != int64(len(tt.file.data)) || r.Bytes != r.Size {
				t.Errorf("got SHA256 %s Size %d Bytes %d, want %s %d %d", r.SHA256, r.Size, r.Bytes, sha(tt.file.data), len(tt.file.data), len(tt.file.data))
			}
			if p := d.Progress(); p.BytesDone != p.BytesExpected || p.BytesDone != int64(len(tt.file.data)) || p.Downloaded != 1 || p.FilesDone != 1 {
				t.Errorf("Progress = %+v, want all %d bytes done and one file downloaded", p, len(tt.file.data))
			}
		})
	}
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func bytesHasTIFF(b []byte) bool { return len(b) > 2 && string(b[:2]) == "II" }

// tiffFile returns a valid TIFF of size bytes.
func tiffFile(t testing.TB, size int) []byte {
	h, err := tiff.Header(int64(size))
	if err != nil {
		t.Fatal(err)
	}
	b := content(size, 9)
	copy(b, h)
	return b
}

func TestRerunSkipsAndForce(t *testing.T) {
	data := content(64<<10, 2)
	tests := []struct {
		name      string
		existing  []byte // at the final name before the second run
		size      int64  // manifest size=
		force     bool
		want      Status
		wantReqs  int64
		wantBytes []byte
	}{
		{name: "complete file skipped", existing: data, size: -1, want: Skipped, wantReqs: 0, wantBytes: data},
		{name: "size matches: skipped", existing: data, size: int64(len(data)), want: Skipped, wantReqs: 0, wantBytes: data},
		{name: "size differs: downloaded again", existing: data[:100], size: int64(len(data)), want: Downloaded, wantReqs: 1, wantBytes: data},
		{name: "force downloads again", existing: []byte("old"), size: -1, force: true, want: Downloaded, wantReqs: 1, wantBytes: data},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeService(t)
			e := entry(s.add("/f.bin", &fakeFile{data: data}), "f.bin")
			e.Size = tt.size
			d := newTest(t, Config{Force: tt.force})
			path := filepath.Join(d.cfg.Dir, "f.bin")
			if err := os.WriteFile(path, tt.existing, 0o644); err != nil {
				t.Fatal(err)
			}
			r := run(t, d, e)[0]
			if r.Status != tt.want {
				t.Fatalf("Status = %s (%v), want %s", r.Status, r.Err, tt.want)
			}
			if got := s.requests.Load(); got != tt.wantReqs {
				t.Errorf("requests = %d, want %d", got, tt.wantReqs)
			}
			if r.Status == Skipped && (r.Size != int64(len(tt.existing)) || r.Bytes != 0) {
				t.Errorf("skipped: Size %d Bytes %d, want %d 0", r.Size, r.Bytes, len(tt.existing))
			}
			checkFile(t, path, tt.wantBytes)
		})
	}
}

func TestResumeCutBody(t *testing.T) {
	const size = 1 << 20
	tests := []struct {
		name      string
		noRange   bool
		maxFactor float64 // bytes sent at most this × size
		wantRange bool    // the retry asked for a range
	}{
		{name: "range supported", maxFactor: 1.0, wantRange: true},
		{name: "range ignored: restart from zero", noRange: true, maxFactor: 1.5, wantRange: true},
	}
	for _, tt := range tests {
		forProtocols(t, tt.name, func(t *testing.T, p protocol) {
			data := content(size, 3)
			s := newFakeService(t, p)
			f := &fakeFile{data: data, noRange: tt.noRange, cutAfter: cutFirst(1, size/2)}
			e := entry(s.add("/f.bin", f), "f.bin")
			d := newTest(t, s.cfg(Config{}))
			r := run(t, d, e)[0]
			if r.Status != Downloaded {
				t.Fatalf("Status = %s (%v), want downloaded", r.Status, r.Err)
			}
			checkFile(t, r.Path, data)
			if r.SHA256 != sha(data) {
				t.Errorf("SHA256 = %s, want %s (hash over the whole resumed file)", r.SHA256, sha(data))
			}
			if r.Attempts != 2 {
				t.Errorf("Attempts = %d, want 2", r.Attempts)
			}
			if got := float64(s.sent.Load()); got > tt.maxFactor*size {
				t.Errorf("server sent %.0f bytes, want at most %.1f × %d", got, tt.maxFactor, size)
			}
			seen := s.seenFor("/f.bin")
			if len(seen) != 2 {
				t.Fatalf("requests = %d, want 2", len(seen))
			}
			if got := seen[1].Range != ""; got != tt.wantRange {
				t.Errorf("second request Range %q, want a range: %v", seen[1].Range, tt.wantRange)
			}
			if seen[1].Range != "" && seen[1].IfRange != f.etag {
				t.Errorf("If-Range = %q, want the ETag %q", seen[1].IfRange, f.etag)
			}
		})
	}
}

// TestNoSplice changes the file between the cut and the resume, or has the
// server answer a range that does not continue the part: the result must be
// the new version whole, never a splice.
func TestNoSplice(t *testing.T) {
	const size = 256 << 10
	v1, v2 := content(size, 4), content(size+1000, 5)
	tests := []struct {
		name  string
		reply func(s *fakeService) func(n int, w http.ResponseWriter, r *http.Request) bool
		want  []byte // the final content; nil means v2
	}{
		{name: "file changed, If-Range honoured", reply: func(s *fakeService) func(int, http.ResponseWriter, *http.Request) bool {
			return func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n == 2 {
					s.set("/f.bin", v2, `"v2"`)
				}
				return false
			}
		}},
		{name: "file shrank below the part, If-Range honoured", reply: func(s *fakeService) func(int, http.ResponseWriter, *http.Request) bool {
			return func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n == 2 {
					s.set("/f.bin", v2[:size/4], `"v2"`)
				}
				return false
			}
		}, want: v2[:size/4]},
		{name: "206 with another total (If-Range ignored)", reply: func(s *fakeService) func(int, http.ResponseWriter, *http.Request) bool {
			return func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n == 2 {
					s.set("/f.bin", v2, `"v2"`)
					r.Header.Del("If-Range")
				}
				return false
			}
		}},
		{name: "206 from the wrong offset", reply: func(s *fakeService) func(int, http.ResponseWriter, *http.Request) bool {
			return func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n == 2 {
					s.set("/f.bin", v2, `"v2"`)
					r.Header.Set("Range", "bytes=0-")
					r.Header.Del("If-Range")
				}
				return false
			}
		}},
	}
	for _, tt := range tests {
		forProtocols(t, tt.name, func(t *testing.T, p protocol) {
			s := newFakeService(t, p)
			f := &fakeFile{data: v1, etag: `"v1"`, cutAfter: cutFirst(1, size/2)}
			f.reply = tt.reply(s)
			e := entry(s.add("/f.bin", f), "f.bin")
			r := run(t, newTest(t, s.cfg(Config{})), e)[0]
			if r.Status != Downloaded {
				t.Fatalf("Status = %s (%v), want downloaded", r.Status, r.Err)
			}
			want := tt.want
			if want == nil {
				want = v2
			}
			checkFile(t, r.Path, want)
			if r.SHA256 != sha(want) {
				t.Errorf("SHA256 = %s, want %s", r.SHA256, sha(want))
			}
		})
	}
}

func TestStatuses(t *testing.T) {
	data := content(10<<10, 6)
	failN := func(k, code int, hdr ...string) func(int, http.ResponseWriter, *http.Request) bool {
		return func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n > k {
				return false
			}
			for i := 0; i+1 < len(hdr); i += 2 {
				w.Header().Set(hdr[i], hdr[i+1])
			}
			w.WriteHeader(code)
			return true
		}
	}
	tests := []struct {
		name         string
		reply        func(int, http.ResponseWriter, *http.Request) bool
		missingPath  bool
		mayBeMissing bool
		want         Status
		wantErr      error
		wantAtts     int
		wantInErr    string
	}{
		{name: "503 twice then ok", reply: failN(2, 503), want: Downloaded, wantAtts: 3},
		{name: "500 then ok", reply: failN(1, 500), want: Downloaded, wantAtts: 2},
		{name: "429 with Retry-After then ok", reply: failN(1, 429, "Retry-After", "0"), want: Downloaded, wantAtts: 2},
		{name: "503 forever: budget spent", reply: failN(99, 503), want: Failed, wantErr: ErrHTTPStatus, wantAtts: 4, wantInErr: "503"},
		{name: "501 not retried", reply: failN(99, 501), want: Failed, wantErr: ErrHTTPStatus, wantAtts: 1},
		{name: "403 permanent", reply: failN(99, 403), want: Failed, wantErr: ErrForbidden, wantAtts: 1, wantInErr: "lack access"},
		{name: "401 without auth", reply: failN(99, 401), want: Failed, wantErr: ErrUnauthorized, wantAtts: 1},
		{name: "404 may be missing", missingPath: true, mayBeMissing: true, want: Missing, wantAtts: 1},
		{name: "404 failed", missingPath: true, want: Failed, wantErr: ErrNotFound, wantAtts: 1, wantInErr: "/nothere.bin"},
		{name: "html page with 200", reply: func(n int, w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<html><body>Sign in</body></html>"))
			return true
		}, want: Failed, wantErr: ErrHTMLPage, wantAtts: 4, wantInErr: "web page"},
		{name: "page sniffed despite binary type", reply: func(n int, w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write([]byte("\n  <!DOCTYPE html><html>Sign in</html>"))
			return true
		}, want: Failed, wantErr: ErrHTMLPage, wantAtts: 4},
		{name: "json error document", reply: func(n int, w http.ResponseWriter, r *http.Request) bool {
			w.Write([]byte(`{"error": "unauthorized"}`))
			return true
		}, want: Failed, wantErr: ErrHTMLPage, wantAtts: 4},
	}
	for _, tt := range tests {
		forProtocols(t, tt.name, func(t *testing.T, p protocol) {
			s := newFakeService(t, p)
			url := s.add("/f.bin", &fakeFile{data: data, reply: tt.reply})
			if tt.missingPath {
				url = s.URL + "/nothere.bin"
			}
			e := entry(url, "f.bin")
			e.MayBeMissing = tt.mayBeMissing
			d := newTest(t, s.cfg(Config{Attempts: 4}))
			r := run(t, d, e)[0]
			if r.Status != tt.want || r.Attempts != tt.wantAtts {
				t.Fatalf("got %s after %d attempts (%v), want %s after %d", r.Status, r.Attempts, r.Err, tt.want, tt.wantAtts)
			}
			if tt.want == Failed && !errors.Is(r.Err, tt.wantErr) {
				t.Errorf("Err = %v, want %v", r.Err, tt.wantErr)
			}
			if tt.want != Failed && r.Err != nil {
				t.Errorf("Err = %v, want nil", r.Err)
			}
			if r.Err != nil && !strings.Contains(r.Err.Error(), tt.wantInErr) {
				t.Errorf("Err = %q, want it to mention %q", r.Err, tt.wantInErr)
			}
			if tt.want == Downloaded {
				checkFile(t, r.Path, data)
			} else if _, err := os.Stat(r.Path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a final file exists for a %s entry", r.Status)
			}
			if tt.want != Downloaded {
				if _, err := os.Stat(r.Path + ".part"); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a web page or error was kept as a partial file")
				}
			}
		})
	}
}

// TestRetryAfterHonoured checks on the server's clock that the retry after a
// 429 with Retry-After: 1 does not come early.
func TestRetryAfterHonoured(t *testing.T) {
	s := newFakeService(t)
	data := content(1000, 7)
	var first time.Time
	e := entry(s.add("/f.bin", &fakeFile{data: data, reply: func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	}}), "f.bin")
	d := newTest(t, Config{RetryMaxWait: time.Minute})
	r := run(t, d, e)[0]
	if r.Status != Downloaded {
		t.Fatalf("Status = %s (%v)", r.Status, r.Err)
	}
	seen := s.seenFor("/f.bin")
	if len(seen) != 2 {
		t.Fatalf("requests = %d, want 2", len(seen))
	}
	if gap := seen[1].At.Sub(first); gap < time.Second {
		t.Errorf("retry came %v after the 429, want at least the 1s of Retry-After", gap)
	}
}

// paced marks resp as an answer that other transfers pace.
func paced(resp *http.Response) *http.Response {
	resp.Request = (&http.Request{}).WithContext(withAttempts(context.Background(), &attempts{paced: true}))
	return resp
}

func TestBackoff(t *testing.T) {
	now := time.Date(2026, 11, 22, 20, 0, 0, 0, time.UTC)
	resp := func(code int, ra string) *http.Response {
		h := http.Header{}
		if ra != "" {
			h.Set("Retry-After", ra)
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	tests := []struct {
		name     string
		n        int
		resp     *http.Response
		min, max time.Duration // bounds of the wait
	}{
		{name: "first retry", n: 0, resp: resp(500, ""), min: 50 * time.Millisecond, max: 100 * time.Millisecond},
		{name: "third retry doubles twice", n: 2, resp: resp(500, ""), min: 200 * time.Millisecond, max: 400 * time.Millisecond},
		{name: "capped", n: 40, resp: nil, min: 5 * time.Second, max: 10 * time.Second},
		{name: "retry-after seconds", n: 0, resp: resp(429, "7"), min: 7 * time.Second, max: 7 * time.Second},
		{name: "retry-after on 503", n: 0, resp: resp(503, "3"), min: 3 * time.Second, max: 3 * time.Second},
		{name: "retry-after date", n: 0, resp: resp(429, now.Add(4*time.Second).Format(http.TimeFormat)), min: 4 * time.Second, max: 4 * time.Second},
		{name: "retry-after date in the past", n: 0, resp: resp(429, now.Add(-time.Hour).Format(http.TimeFormat)), min: 0, max: 0},
		{name: "retry-after capped", n: 0, resp: resp(429, "3600"), min: 10 * time.Second, max: 10 * time.Second},
		{name: "retry-after garbage", n: 0, resp: resp(429, "soon"), min: 50 * time.Millisecond, max: 100 * time.Millisecond},
		// Other transfers streaming pace a 429 or 503 without Retry-After.
		{name: "paced 429", n: 2, resp: paced(resp(429, "")), min: 0, max: 0},
		{name: "paced 503", n: 2, resp: paced(resp(503, "")), min: 0, max: 0},
		{name: "paced 429 with retry-after", n: 0, resp: paced(resp(429, "7")), min: 7 * time.Second, max: 7 * time.Second},
		{name: "paced 500 backs off", n: 0, resp: paced(resp(500, "")), min: 50 * time.Millisecond, max: 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 {
				got := backoff(100*time.Millisecond, 10*time.Second, tt.n, tt.resp, func() time.Time { return now })
				if got < tt.min || got > tt.max {
					t.Fatalf("backoff = %v, want within [%v, %v]", got, tt.min, tt.max)
				}
			}
		})
	}
}

func TestRateLimiterChunks(t *testing.T) {
	// WaitN fails for more than the burst: a download that completes shows
	// the reads were cut to the burst.
	data := content(200<<10, 8)
	s := newFakeService(t)
	e := entry(s.add("/f.bin", &fakeFile{data: data}), "f.bin")
	lim := rate.NewLimiter(rate.Limit(1<<40), 4096)
	r := run(t, newTest(t, Config{Limiter: lim}), e)[0]
	if r.Status != Downloaded {
		t.Fatalf("Status = %s (%v), want downloaded", r.Status, r.Err)
	}
	checkFile(t, r.Path, data)
}

func TestOnResultOncePerEntry(t *testing.T) {
	s := newFakeService(t)
	var entries []manifest.Entry
	for i := range 12 {
		name := "f" + string(rune('a'+i)) + ".bin"
		url := s.URL + "/" + name
		if i%3 != 0 {
			url = s.add("/"+name, &fakeFile{data: content(5000, uint64(i))})
		}
		e := entry(url, name)
		e.MayBeMissing = i%2 == 0
		entries = append(entries, e)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	d := newTest(t, Config{Workers: 3, OnResult: func(r Result) {
		mu.Lock()
		seen[r.Entry.Name]++
		mu.Unlock()
	}})
	res := run(t, d, entries...)
	for i, r := range res {
		if r.Entry.Name != entries[i].Name {
			t.Errorf("result %d is for %s, want %s (entry order)", i, r.Entry.Name, entries[i].Name)
		}
		if seen[r.Entry.Name] != 1 {
			t.Errorf("OnResult called %d times for %s, want 1", seen[r.Entry.Name], r.Entry.Name)
		}
	}
	p := d.Progress()
	if p.FilesDone != 12 || p.Downloaded+p.Missing+p.Failed+p.Skipped != 12 || p.Missing != 2 || p.Failed != 2 {
		t.Errorf("Progress = %+v, want 12 done, 2 missing, 2 failed", p)
	}
}

// TestLogsThroughSlog: the retry layer logs through Config.Logger.
func TestLogsThroughSlog(t *testing.T) {
	s := newFakeService(t)
	data := content(1000, 60)
	e := entry(s.add("/f.bin", &fakeFile{data: data, reply: func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	}}), "f.bin")
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := run(t, newTest(t, Config{Logger: logger}), e)[0]
	if r.Status != Downloaded {
		t.Fatalf("Status = %s (%v)", r.Status, r.Err)
	}
	if !strings.Contains(logs.String(), "retrying request") || !strings.Contains(logs.String(), "503") {
		t.Errorf("log = %q, want the retry of the 503", logs.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.Contains(line, "level=DEBUG") {
			t.Errorf("a retried attempt is logged above debug level: %s", line)
		}
	}
}

// TestTransportErrorNamesURLOnce: a file whose host cannot be reached fails
// with an error that names its URL once, not once per wrapping layer.
func TestTransportErrorNamesURLOnce(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String() + "/gone.bin"
	l.Close() // nothing listens there now: connection refused
	e := manifest.Entry{Raw: u, URL: u, Name: "gone.bin", Size: -1}
	r := run(t, newTest(t, Config{Attempts: 2}), e)[0]
	if r.Status != Failed {
		t.Fatalf("Status = %s, want failed", r.Status)
	}
	if n := strings.Count(r.Err.Error(), u); n != 1 {
		t.Errorf("error names the URL %d times, want once: %v", n, r.Err)
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]string{
		"https://h.example/d/x.tif":                  "https://h.example/d/x.tif",
		"https://h.example/d/x.tif?X-Sig=abc&e=1":    "https://h.example/d/x.tif?…",
		"https://u:secret@h.example/x.tif#frag":      "https://h.example/x.tif",
		"http://127.0.0.1:8080/download/a%20b.tif?t": "http://127.0.0.1:8080/download/a%20b.tif?…",
	}
	for in, want := range tests {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
