package downloader

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wcdl/wcdl/downloader/hostiletest"
	"github.com/wcdl/wcdl/manifest"
)

// hostile starts a hostiletest server for data and returns it with the
// entry of its file f.bin.
func hostile(t *testing.T, data []byte, opts ...hostiletest.Option) (*hostiletest.Server, manifest.Entry) {
	t.Helper()
	s := hostiletest.New(data, opts...)
	t.Cleanup(s.Close)
	return s, entry(s.URL+"/f.bin", "f.bin")
}

// checkNothingKept fails if anything is left in dir.
func checkNothingKept(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("%s left in the output folder", e.Name())
	}
}

// TestBodyBounded checks that a body is never read beyond the expected
// length plus one byte, and that nothing of a body that is too long is
// kept.
func TestBodyBounded(t *testing.T) {
	data := content(100<<10, 7)
	const maxSize = 1 << 20
	tests := []struct {
		name     string
		opts     []hostiletest.Option
		size     int64 // manifest size=, or -1
		wantErr  error
		wantAtts int
	}{
		{name: "longer than size= without length", opts: []hostiletest.Option{hostiletest.WithExtraBytes(10 << 20)},
			size: int64(len(data)), wantErr: ErrSizeMismatch, wantAtts: 2},
		{name: "endless body without length", opts: []hostiletest.Option{hostiletest.WithEndlessBody()},
			size: -1, wantErr: ErrTooLarge, wantAtts: 1},
		{name: "endless body beyond size=", opts: []hostiletest.Option{hostiletest.WithEndlessBody()},
			size: int64(len(data)), wantErr: ErrSizeMismatch, wantAtts: 2},
		{name: "announced beyond max-file-size", opts: []hostiletest.Option{hostiletest.WithAnnouncedLength(1 << 40)},
			size: -1, wantErr: ErrTooLarge, wantAtts: 1},
		{name: "no length, within bounds", opts: []hostiletest.Option{hostiletest.WithoutLength()},
			size: -1, wantAtts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, e := hostile(t, data, tt.opts...)
			e.Size = tt.size
			dir := t.TempDir()
			d := newTest(t, Config{Dir: dir, Attempts: 2, MaxFileSize: maxSize})
			r := run(t, d, e)[0]
			if r.Attempts != tt.wantAtts {
				t.Errorf("Attempts = %d, want %d", r.Attempts, tt.wantAtts)
			}
			if tt.wantErr == nil {
				if r.Status != Downloaded {
					t.Fatalf("Status = %s (%v), want downloaded", r.Status, r.Err)
				}
				checkFile(t, filepath.Join(dir, "f.bin"), data)
				return
			}
			if r.Status != Failed || !errors.Is(r.Err, tt.wantErr) {
				t.Fatalf("Status = %s, Err = %v; want failed with %v", r.Status, r.Err, tt.wantErr)
			}
			limit := int64(maxSize)
			if tt.size >= 0 {
				limit = tt.size
			}
			if most := int64(r.Attempts) * (limit + 1); r.Bytes > most {
				t.Errorf("received %d bytes over %d attempts, more than the %d bytes allowed", r.Bytes, r.Attempts, most)
			}
			checkNothingKept(t, dir)
		})
	}
}

// TestContentEncodingRefused checks that a gzip body is never stored as
// the file, and that the error names the coding.
func TestContentEncodingRefused(t *testing.T) {
	data := content(50<<10, 8)
	s, e := hostile(t, data, hostiletest.WithContentEncoding("gzip"))
	dir := t.TempDir()
	r := run(t, newTest(t, Config{Dir: dir, Attempts: 3}), e)[0]
	if r.Status != Failed || !errors.Is(r.Err, ErrContentEncoding) || !strings.Contains(r.Err.Error(), `"gzip"`) {
		t.Fatalf("Status = %s, Err = %v; want failed with ErrContentEncoding naming gzip", r.Status, r.Err)
	}
	if r.Attempts != 1 {
		t.Errorf("Attempts = %d, want 1: another attempt gets the same coding", r.Attempts)
	}
	for _, h := range s.Seen() {
		if got := h.Get("Accept-Encoding"); got != "identity" {
			t.Errorf("Accept-Encoding = %q, want identity", got)
		}
	}
	checkNothingKept(t, dir)
}

// TestNeverSplice cuts the first answer, then answers the resume with 206
// bytes of another version: the resume is accepted only with the same
// validator, otherwise the file restarts from zero and holds one version.
func TestNeverSplice(t *testing.T) {
	v1 := content(1<<20, 9)
	v2 := content(1<<20, 10)
	p := hostiletest.Ptr
	tests := []struct {
		name       string
		opts       []hostiletest.Option
		rangeData  []byte
		etag, lmod *string // of the 206 answers
		wantResume bool    // the 206 is used
	}{
		{name: "same strong ETag", rangeData: v1, wantResume: true},
		{name: "different ETag", rangeData: v2, etag: p(`"v2"`)},
		{name: "no ETag where the first had one", rangeData: v2, etag: p("")},
		{name: "weak ETag", rangeData: v2, etag: p(`W/"v1"`)},
		{name: "same Last-Modified", opts: []hostiletest.Option{hostiletest.WithETag("")}, rangeData: v1, wantResume: true},
		{name: "different Last-Modified", opts: []hostiletest.Option{hostiletest.WithETag("")}, rangeData: v2,
			lmod: p("Mon, 23 Nov 2026 20:00:00 GMT")},
		{name: "no Last-Modified where the first had one", opts: []hostiletest.Option{hostiletest.WithETag("")}, rangeData: v2,
			lmod: p("")},
		{name: "an ETag appears where the first had only Last-Modified", opts: []hostiletest.Option{hostiletest.WithETag("")},
			rangeData: v2, etag: p(`"v2"`), lmod: p("")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]hostiletest.Option{hostiletest.WithCutFirst(300 << 10),
				hostiletest.WithRangeVersion(tt.rangeData, tt.etag, tt.lmod)}, tt.opts...)
			s, e := hostile(t, v1, opts...)
			dir := t.TempDir()
			r := run(t, newTest(t, Config{Dir: dir, Attempts: 4}), e)[0]
			if r.Status != Downloaded {
				t.Fatalf("Status = %s (%v), want downloaded", r.Status, r.Err)
			}
			checkFile(t, filepath.Join(dir, "f.bin"), v1)
			wantAtts := 3 // cut, refused 206, full answer
			if tt.wantResume {
				wantAtts = 2
			}
			if r.Attempts != wantAtts {
				t.Errorf("Attempts = %d, want %d", r.Attempts, wantAtts)
			}
			seen := s.Seen()
			if len(seen) < 2 || seen[1].Get("Range") != "bytes=307200-" {
				t.Fatalf("second request %v, want a resume from 307200", seen)
			}
			if !tt.wantResume && seen[len(seen)-1].Get("Range") != "" {
				t.Errorf("last request asks for %q, want the whole file", seen[len(seen)-1].Get("Range"))
			}
			if tt.wantResume && bytes.Equal(tt.rangeData, v2) {
				t.Fatal("bad test: a resume of another version")
			}
		})
	}
}

// TestTimeouts checks that a server that never answers, one that stops
// sending, and one that trickles a byte at a time each cost an attempt
// that is retried, never a worker held forever, and that such a failure is
// not final.
func TestTimeouts(t *testing.T) {
	data := content(100<<10, 13)
	tests := []struct {
		name    string
		opts    []hostiletest.Option
		minRate int64
		wantErr error
	}{
		{name: "no response headers", opts: []hostiletest.Option{hostiletest.WithHang()}, wantErr: ErrStalled},
		{name: "body stops", opts: []hostiletest.Option{hostiletest.WithStallAfter(1000)}, wantErr: ErrStalled},
		{name: "trickle below --min-rate", opts: []hostiletest.Option{hostiletest.WithTrickle(2 * time.Millisecond)},
			minRate: 1 << 20, wantErr: ErrTooSlow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, e := hostile(t, data, tt.opts...)
			// A client of its own, as the authentication transport is: the
			// wait for headers must be bounded all the same.
			d := newTest(t, Config{Attempts: 3, StallTimeout: 100 * time.Millisecond, MinRate: tt.minRate,
				Client: &http.Client{Transport: &http.Transport{}}})
			r := run(t, d, e)[0]
			if r.Status != Failed || !errors.Is(r.Err, tt.wantErr) {
				t.Fatalf("Status = %s, Err = %v; want failed with %v", r.Status, r.Err, tt.wantErr)
			}
			if r.Attempts != 3 || s.Requests() != 3 {
				t.Errorf("%d attempts, %d requests; want 3 each: the cut is retried, not final", r.Attempts, s.Requests())
			}
		})
	}
}
