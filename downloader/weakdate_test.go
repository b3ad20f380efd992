package downloader

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sameSecondServer serves a file without ETag whose Last-Modified equals
// the answer's Date, as a server does for a file written within the second
// it is served: a weak validator (RFC 9110 §8.8.2.2). Range and If-Range
// are honoured as such a server does, by comparing the date, so a version
// written in the same second passes If-Range. The first full answer is cut
// after cut bytes (if cut > 0) and the version changes to next as soon as
// its headers are sent.
type sameSecondServer struct {
	*httptest.Server
	mu      sync.Mutex
	cur     []byte
	next    []byte
	cut     int
	full    atomic.Int64 // answers without Range
	ranged  atomic.Int64 // requests with Range
	ifRange atomic.Int64 // requests with If-Range
}

func newSameSecondServer(t *testing.T, v1, v2 []byte, cut int) *sameSecondServer {
	s := &sameSecondServer{cur: v1, next: v2, cut: cut}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

var sameSecond = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func (s *sameSecondServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Range") != "" {
		s.ranged.Add(1)
	}
	if r.Header.Get("If-Range") != "" {
		s.ifRange.Add(1)
	}
	s.mu.Lock()
	data := s.cur
	first := s.next != nil
	if first {
		s.cur, s.next = s.next, nil // the file changes within the same second
	}
	s.mu.Unlock()
	w.Header().Set("Date", sameSecond.Format(http.TimeFormat))
	w.Header().Set("Content-Type", "application/octet-stream")
	if r.Header.Get("Range") == "" {
		s.full.Add(1)
	}
	if !first || r.Header.Get("Range") != "" || s.cut <= 0 {
		http.ServeContent(w, r, "", sameSecond, bytes.NewReader(data))
		return
	}
	w.Header().Set("Last-Modified", sameSecond.Format(http.TimeFormat))
	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	w.Write(data[:s.cut])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

// TestWeakLastModifiedNeverValidates checks that a Last-Modified that is
// not at least one second before the answer's Date is not used as a
// validator: a part of such a version is never resumed with If-Range nor
// fetched in parallel ranges, since the next version, written within the
// same second, carries the same date. The file published is one whole
// version, never half of each.
func TestWeakLastModifiedNeverValidates(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		cut    int // the first answer is cut after cut bytes; 0: not cut
		ranges bool
	}{
		{name: "resume after a cut", size: 600 << 10, cut: 300 << 10},
		{name: "parallel ranges", size: 1 << 20, ranges: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v1, v2 := content(tt.size, 31), content(tt.size, 32)
			s := newSameSecondServer(t, v1, v2, tt.cut)
			d := newTest(t, Config{Workers: 4, Attempts: 3})
			split := 0
			if tt.ranges {
				d.rangeMin, d.rangeSave = 128<<10, 16<<10
				d.onSplit = func(n int) { split = max(split, n) }
			}
			r := run(t, d, entry(s.URL+"/f.bin", "f.bin"))[0]
			if r.Status != Downloaded {
				t.Fatalf("Status = %s (%v), want downloaded", r.Status, r.Err)
			}
			if got := s.ifRange.Load(); got != 0 {
				t.Errorf("%d requests with If-Range, want 0: the date is a weak validator", got)
			}
			if got := s.ranged.Load(); got != 0 {
				t.Errorf("%d requests with Range, want 0", got)
			}
			if split > 1 {
				t.Errorf("split into %d ranges, want one stream", split)
			}
			want := v1
			if tt.cut > 0 {
				want = v2 // the file changed after the cut: the new version, whole
			}
			checkFile(t, r.Path, want)
		})
	}
}

// TestStrongLastModified: a date is a validator only when the answer's
// Date is at least one second later.
func TestStrongLastModified(t *testing.T) {
	const lm = "Fri, 04 Dec 2026 12:00:00 GMT"
	tests := []struct {
		name, lm, date, want string
	}{
		{name: "equal to Date", lm: lm, date: lm, want: ""},
		{name: "one second before Date", lm: lm, date: "Fri, 04 Dec 2026 12:00:01 GMT", want: lm},
		{name: "a day before Date", lm: lm, date: "Sat, 05 Dec 2026 12:00:00 GMT", want: lm},
		{name: "after Date", lm: lm, date: "Fri, 04 Dec 2026 11:59:59 GMT", want: ""},
		{name: "no Date", lm: lm, want: ""},
		{name: "Date unparsable", lm: lm, date: "soon", want: ""},
		{name: "Last-Modified unparsable", lm: "yesterday", date: lm, want: ""},
		{name: "no Last-Modified", date: lm, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.lm != "" {
				h.Set("Last-Modified", tt.lm)
			}
			if tt.date != "" {
				h.Set("Date", tt.date)
			}
			if got := strongLastModified(h); got != tt.want {
				t.Errorf("strongLastModified(Last-Modified %q, Date %q) = %q, want %q", tt.lm, tt.date, got, tt.want)
			}
		})
	}
}
