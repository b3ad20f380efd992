package downloader

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/wcdl/wcdl/downloader/s3test"
	"github.com/wcdl/wcdl/manifest"
)

// located returns an entry for key at each of the bases, named by source.
func located(key string, bases ...[2]string) manifest.Entry {
	e := entry(bases[0][1]+"/"+key, key)
	for _, b := range bases {
		e.Locations = append(e.Locations, manifest.Location{Source: b[0], URL: b[1] + "/" + key})
	}
	return e
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestFallbackDeadSource: with a first source that refuses connections,
// the batch completes from the second, the dead source is given up after
// the files in flight when it failed, and the result names the source.
func TestFallbackDeadSource(t *testing.T) {
	const files, workers, attempts = 12, 3, 2
	dead := deadAddr(t)
	live := s3test.NewServer("b")
	defer live.Close()
	var entries []manifest.Entry
	for i := range files {
		key := fmt.Sprintf("f%02d.tif", i)
		live.Put(key, tiffFile(t, 64<<10+i))
		entries = append(entries, located(key, [2]string{"mirror", "http://" + dead + "/b"}, [2]string{"aws", live.URL()}))
	}
	var dials atomic.Int64 // connections tried to the dead source
	tr := NewTransport(workers, nil)
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == dead {
			dials.Add(1)
		}
		return dial(ctx, network, addr)
	}
	d := newTest(t, Config{Workers: workers, Attempts: attempts, Client: &http.Client{Transport: tr}})
	res, err := d.Run(t.Context(), entries)
	if err != nil {
		t.Fatalf("Run: %v (the dead source stopped the batch)", err)
	}
	for _, r := range res {
		if r.Status != Downloaded || r.Origin != "aws" {
			t.Errorf("%s: status %s from %q (%v), want downloaded from aws", r.Entry.Name, r.Status, r.Origin, r.Err)
		}
		if want := live.URL() + "/" + r.Entry.Name; r.Entry.URL != want {
			t.Errorf("%s: result URL %s, want the one it came from, %s", r.Entry.Name, r.Entry.URL, want)
		}
	}
	if got := live.Stats().Requests; got != files {
		t.Errorf("requests to the live source: %d, want %d (one per file)", got, files)
	}
	// Only the files in flight before the source was found dead try it.
	if got, most := dials.Load(), int64(workers*attempts); got < 1 || got > most {
		t.Errorf("connections tried to the dead source: %d, want 1..%d", got, most)
	}
}

// TestFallbackStatuses: a 5xx past its retries, a 404 on a mirror and a
// copy that fails its digest each hand the file to the next source; a 404
// for a file that may be missing does not, and sizes that differ between
// sources are noted.
func TestFallbackStatuses(t *testing.T) {
	good := tiffFile(t, 128<<10)
	tests := []struct {
		name        string
		first       http.HandlerFunc // nil: an s3test bucket holding a tampered, longer copy
		mayBeMiss   bool
		wantStatus  Status
		wantOrigin  string
		wantFirst   int64 // requests the first source got
		wantSecond  int64
		wantOtherSz []string
	}{
		{"503 past retries", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }, false, Downloaded, "aws", 3, 1, nil},
		{"404 on a mirror", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) }, false, Downloaded, "aws", 1, 1, nil},
		{"404 of a file that may be missing", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) }, true, Missing, "mirror", 1, 0, nil},
		{"tampered copy of another size", nil, false, Downloaded, "aws", 3, 1, []string{fmt.Sprintf("mirror: %d bytes", len(good)+10)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var firstURL string
			var firstReqs func() int64
			if tt.first != nil {
				var n atomic.Int64
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1); tt.first(w, r) }))
				defer srv.Close()
				firstURL, firstReqs = srv.URL, n.Load
			} else {
				bad := s3test.NewServer("b")
				defer bad.Close()
				bad.Put("f.tif", good)
				bad.Tamper("f.tif", tiffFile(t, len(good)+10))
				firstURL, firstReqs = bad.URL(), func() int64 { return bad.Stats().Requests }
			}
			second := s3test.NewServer("b")
			defer second.Close()
			second.Put("f.tif", good)
			e := located("f.tif", [2]string{"mirror", firstURL}, [2]string{"aws", second.URL()})
			e.MayBeMissing = tt.mayBeMiss
			d := newTest(t, Config{Attempts: 3})
			r := run(t, d, e)[0]
			if r.Status != tt.wantStatus || r.Origin != tt.wantOrigin {
				t.Fatalf("status %s from %q (%v), want %s from %s", r.Status, r.Origin, r.Err, tt.wantStatus, tt.wantOrigin)
			}
			if r.Status == Downloaded {
				checkFile(t, r.Path, good)
			}
			if got := firstReqs(); got != tt.wantFirst {
				t.Errorf("requests to the first source: %d, want %d", got, tt.wantFirst)
			}
			if got := second.Stats().Requests; got != tt.wantSecond {
				t.Errorf("requests to the second source: %d, want %d", got, tt.wantSecond)
			}
			if !slices.Equal(r.Sizes, tt.wantOtherSz) {
				t.Errorf("other sizes %q, want %q", r.Sizes, tt.wantOtherSz)
			}
		})
	}
}

// TestFallbackNeverSplices: bytes of a file cut on one source are never
// completed from another: the next source serves it from zero.
func TestFallbackNeverSplices(t *testing.T) {
	size := 1 << 20
	fromA, fromB := tiffFile(t, size), tiffFile(t, size)
	fromB[size-1] ^= 0xff // another copy: any byte of A's in the result would show
	var n atomic.Int64
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("ETag", `"a1"`)
		w.Header().Set("Accept-Ranges", "bytes")
		w.Header().Set("Content-Length", fmt.Sprint(size))
		w.Write(fromA[:size/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // cut the body half way
	}))
	defer a.Close()
	b := s3test.NewServer("b")
	defer b.Close()
	b.Put("f.tif", fromB)
	e := located("f.tif", [2]string{"mirror", a.URL}, [2]string{"aws", b.URL()})
	r := run(t, newTest(t, Config{Attempts: 2}), e)[0]
	if r.Status != Downloaded || r.Origin != "aws" {
		t.Fatalf("status %s from %q (%v), want downloaded from aws", r.Status, r.Origin, r.Err)
	}
	if got := n.Load(); got != 2 {
		t.Errorf("requests to the first source: %d, want 2 (the cut one and its resume)", got)
	}
	if st := b.Stats(); st.Requests != 1 || st.RangeRequests != 0 {
		t.Errorf("second source: %d requests, %d with Range; want 1 without", st.Requests, st.RangeRequests)
	}
	checkFile(t, r.Path, fromB)
}
