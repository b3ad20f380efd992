package downloader

import (
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wcdl/wcdl/downloader/s3test"
)

func TestETagDigest(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		etag      string
		size      int64
		kind      string
		parts     int
		partSizes []int64
	}{
		{`"9e107d9d372bb6826bd81d3542a419d6"`, 10, CheckedETagMD5, 0, nil},
		{`"9E107D9D372BB6826BD81D3542A419D6"`, 10, CheckedETagMD5, 0, nil},
		{`W/"9e107d9d372bb6826bd81d3542a419d6"`, 10, "", 0, nil}, // weak: not a digest
		{`9e107d9d372bb6826bd81d3542a419d6`, 10, "", 0, nil},     // unquoted
		{`"9e107d9d372bb6826bd81d3542a419"`, 10, "", 0, nil},     // 30 hex
		{`"v1"`, 10, "", 0, nil},
		{`"9e107d9d372bb6826bd81d3542a419d6-1"`, 100, CheckedETagParts, 1, []int64{100}},
		// 11 MiB in 3 parts: only 5 MiB of the whole-MiB sizes >= 5 MiB
		{`"9e107d9d372bb6826bd81d3542a419d6-3"`, 11 * mib, CheckedETagParts, 3, []int64{5 * mib}},
		// 60 MB in 8 parts: the AWS CLI's 8 MiB
		{`"9e107d9d372bb6826bd81d3542a419d6-8"`, 60_000_000, CheckedETagParts, 8, []int64{8 * mib}},
		// 100 MiB in 2 parts fits 50..99 MiB: too many to hash
		{`"9e107d9d372bb6826bd81d3542a419d6-2"`, 100 * mib, CheckedETagParts, 2, nil},
		// unknown size
		{`"9e107d9d372bb6826bd81d3542a419d6-3"`, -1, CheckedETagParts, 3, nil},
		{`"9e107d9d372bb6826bd81d3542a419d6-0"`, 10, "", 0, nil},
		{`"9e107d9d372bb6826bd81d3542a419d6-x"`, 10, "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.etag, tt.size), func(t *testing.T) {
			d := etagDigest(tt.etag, tt.size)
			if d.kind != tt.kind || d.parts != tt.parts || !slices.Equal(d.partSizes, tt.partSizes) {
				t.Errorf("got kind %q, %d parts, part sizes %v; want %q, %d, %v", d.kind, d.parts, d.partSizes, tt.kind, tt.parts, tt.partSizes)
			}
		})
	}
}

func TestDigestOfNeedsS3(t *testing.T) {
	h := http.Header{"Etag": {`"9e107d9d372bb6826bd81d3542a419d6"`}}
	if d := digestOf(h, 10, true); d.kind != "" {
		t.Errorf("an MD5-like ETag from a service that is not S3: kind %q, want none", d.kind)
	}
	h.Set("x-amz-request-id", "1")
	if d := digestOf(h, 10, true); d.kind != CheckedETagMD5 {
		t.Errorf("from S3: kind %q, want %q", d.kind, CheckedETagMD5)
	}
	sum := md5.Sum([]byte("range"))
	h = http.Header{"Content-Md5": {base64.StdEncoding.EncodeToString(sum[:])}}
	if d := digestOf(h, 10, false); d.kind != "" {
		t.Errorf("Content-MD5 of a 206 (its range's): kind %q, want none", d.kind)
	}
}

func TestPartHasher(t *testing.T) {
	if got, want := func() string {
		h := &partHasher{size: 5 << 20, cur: md5.New()}
		sum, n := h.sum()
		return fmt.Sprintf(`"%s-%d"`, sum, n)
	}(), s3test.MultipartETag(nil, 5<<20); got != want {
		t.Errorf("empty object: got %s, want %s", got, want)
	}
	body := content(3<<20+123, 4)
	for _, part := range []int{1 << 20, 3<<20 + 123, 7 << 20} {
		want := s3test.MultipartETag(body, part)
		h := &partHasher{size: int64(part), cur: md5.New()}
		for off := 0; off < len(body); off += 100_000 { // writes across part boundaries
			h.Write(body[off:min(off+100_000, len(body))])
		}
		sum, n := h.sum()
		if got := fmt.Sprintf(`"%s-%d"`, sum, n); got != want {
			t.Errorf("part size %d: got %s, want %s", part, got, want)
		}
	}
}

// TestServiceDigestChecked: the digest an S3 bucket or Azure publishes is
// checked, streamed or in ranges, and the result names it.
func TestServiceDigestChecked(t *testing.T) {
	const mib = 1 << 20
	small := tiffFile(t, 300<<10)
	large := tiffFile(t, 11*mib)
	tests := []struct {
		name   string
		put    func(s *s3test.Server)
		ranges bool
		want   string
	}{
		{"single part", func(s *s3test.Server) { s.Put("f.tif", small) }, false, CheckedETagMD5},
		{"single part in ranges", func(s *s3test.Server) { s.Put("f.tif", large) }, true, CheckedETagMD5},
		{"multipart, 5 MiB parts", func(s *s3test.Server) { s.PutMultipart("f.tif", large, 5*mib) }, false, CheckedETagParts},
		{"multipart in ranges", func(s *s3test.Server) { s.PutMultipart("f.tif", large, 5*mib) }, true, CheckedETagParts},
		{"multipart, one part", func(s *s3test.Server) { s.PutMultipart("f.tif", small, 5*mib) }, false, CheckedETagParts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s3test.NewServer("b")
			defer s.Close()
			tt.put(s)
			d := newTest(t, Config{Workers: 4})
			if tt.ranges {
				d.rangeMin, d.rangeSave = 1<<20, 1<<20
			}
			var splits []int
			d.onSplit = func(n int) { splits = append(splits, n) }
			res := run(t, d, entry(s.URL()+"/f.tif", "f.tif"))
			if res[0].Status != Downloaded {
				t.Fatalf("status %s (%v), want downloaded", res[0].Status, res[0].Err)
			}
			if !slices.Contains(res[0].Checked, tt.want) {
				t.Errorf("checked %v, want it to hold %s", res[0].Checked, tt.want)
			}
			if tt.ranges && (len(splits) == 0 || splits[0] < 2) {
				t.Errorf("splits %v: the file was not fetched in ranges", splits)
			}
		})
	}
}

// TestServiceDigestRefusesTampered: an object whose bytes changed behind
// its ETag or Content-MD5 (same size, other bytes) is refused and nothing
// is published.
func TestServiceDigestRefusesTampered(t *testing.T) {
	const mib = 1 << 20
	good, bad := tiffFile(t, 2*mib), tiffFile(t, 2*mib)
	bad[len(bad)-1] ^= 0xff
	tests := []struct {
		name   string
		ranges bool
		put    func(s *s3test.Server)
	}{
		{"single-part ETag", false, func(s *s3test.Server) { s.Put("f.tif", good) }},
		{"single-part ETag, in ranges", true, func(s *s3test.Server) { s.Put("f.tif", good) }},
		{"multipart ETag of one part", false, func(s *s3test.Server) { s.PutMultipart("f.tif", good, 5*mib) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s3test.NewServer("b")
			defer s.Close()
			tt.put(s)
			s.Tamper("f.tif", bad)
			d := newTest(t, Config{Workers: 4, Attempts: 2})
			if tt.ranges {
				d.rangeMin, d.rangeSave = 256<<10, 256<<10
			}
			res := run(t, d, entry(s.URL()+"/f.tif", "f.tif"))
			checkRefused(t, d, res[0])
		})
	}
	t.Run("Azure Content-MD5", func(t *testing.T) {
		sum := md5.Sum(good)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
			w.Header().Set("x-ms-blob-content-md5", base64.StdEncoding.EncodeToString(sum[:]))
			w.Header().Set("ETag", `"0x8DBA1"`)
			w.Write(bad)
		}))
		defer srv.Close()
		d := newTest(t, Config{Attempts: 2})
		res := run(t, d, entry(srv.URL+"/f.tif", "f.tif"))
		checkRefused(t, d, res[0])
	})
}

func checkRefused(t *testing.T, d *Downloader, r Result) {
	t.Helper()
	if r.Status != Failed || !errors.Is(r.Err, ErrDigest) {
		t.Fatalf("status %s, error %v; want failed with ErrDigest", r.Status, r.Err)
	}
	if _, err := os.Stat(r.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused file was published (stat: %v)", err)
	}
	checkNoTemp(t, r.Path)
	if !strings.Contains(r.Err.Error(), "says") {
		t.Errorf("error %q does not say what the service published", r.Err)
	}
}

// TestMultipartETagUnchecked: a multipart ETag whose part size cannot be
// derived (no whole-MiB size reproduces it, or too many fit) does not fail
// the file; -v says it was not checked, and the result does not claim it.
func TestMultipartETagUnchecked(t *testing.T) {
	body := tiffFile(t, 11<<20)
	tests := []struct {
		name     string
		partSize int
		want     string
	}{
		{"part size not whole MiB", 5_000_000, "no usual part size reproduces it"},
		{"two parts fit many sizes", 6 << 20, "its part size cannot be derived"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s3test.NewServer("b")
			defer s.Close()
			s.PutMultipart("f.tif", body, tt.partSize)
			var logs syncLog
			d := newTest(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			r := run(t, d, entry(s.URL()+"/f.tif", "f.tif"))[0]
			if r.Status != Downloaded || slices.Contains(r.Checked, CheckedETagParts) {
				t.Fatalf("status %s (%v), checked %v; want downloaded, without %s", r.Status, r.Err, r.Checked, CheckedETagParts)
			}
			if !strings.Contains(logs.String(), "multipart ETag not checked: "+tt.want) {
				t.Errorf("log %q does not say the ETag was not checked (%s)", logs.String(), tt.want)
			}
		})
	}
}

// syncLog is a log buffer safe for the workers' concurrent writes.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// FuzzPartSizeCandidates: every candidate splits the file into exactly the
// ETag's part count, candidates are whole MiB of at least 5 MiB (or the
// whole file for one part), and there are never more than maxCandidates.
func FuzzPartSizeCandidates(f *testing.F) {
	f.Add(int64(11<<20), 3)
	f.Add(int64(60_000_000), 8)
	f.Add(int64(100<<20), 2)
	f.Add(int64(0), 1)
	f.Fuzz(func(t *testing.T, size int64, n int) {
		if size < 0 || size > 5<<40 || n < 1 || n > maxParts {
			return
		}
		got := partSizeCandidates(size, n)
		if len(got) > maxCandidates {
			t.Fatalf("%d candidates, at most %d", len(got), maxCandidates)
		}
		for _, p := range got {
			if parts := (size + p - 1) / p; n > 1 && parts != int64(n) {
				t.Errorf("size %d, part size %d: %d parts, want %d", size, p, parts, n)
			}
			if n > 1 && (p%(1<<20) != 0 || p < 5<<20) {
				t.Errorf("part size %d is not whole MiB of at least 5 MiB", p)
			}
		}
	})
}
