package downloader

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestExistingPart starts a run with a part left by an earlier one: it is
// resumed only when its metadata matches, else restarted from zero.
func TestExistingPart(t *testing.T) {
	const size = 100 << 10
	data := content(size, 50)
	const etag = `"v1"`
	tests := []struct {
		name      string
		part      []byte
		meta      func(url string) *partMeta // nil: no metadata file
		rawMeta   []byte                     // when not nil, written as the metadata file
		wantRange string                     // Range of the first request, "" for none
		wantReqs  int
	}{
		{name: "matching metadata: resumed", part: data[:size/3],
			meta:      func(u string) *partMeta { return &partMeta{URLDigest: urlDigest(u), ETag: etag, Size: size} },
			wantRange: "bytes=" + strconv.Itoa(size/3) + "-", wantReqs: 1},
		{name: "Last-Modified only: resumed", part: data[:size/3],
			meta: func(u string) *partMeta {
				return &partMeta{URLDigest: urlDigest(u), LastModified: "Sun, 22 Nov 2026 20:00:00 GMT", Size: size}
			},
			wantRange: "bytes=" + strconv.Itoa(size/3) + "-", wantReqs: 1},
		{name: "no metadata: restarted", part: []byte("garbage from somewhere"), wantReqs: 1},
		{name: "torn metadata: restarted", part: data[:size/3],
			rawMeta: []byte(`{"url":"` + "\x00\x00"), wantReqs: 1},
		{name: "empty metadata: restarted", part: data[:size/3], rawMeta: []byte{}, wantReqs: 1},
		{name: "metadata for another URL: restarted", part: data[:size/3],
			meta:     func(u string) *partMeta { return &partMeta{URLDigest: urlDigest(u + "/other"), ETag: etag, Size: size} },
			wantReqs: 1},
		{name: "metadata of an older wcdl, which stored the URL: restarted", part: data[:size/3],
			rawMeta: []byte(`{"url":"http://127.0.0.1/f.bin","etag":"\"v1\"","size":` + strconv.Itoa(size) + `}`), wantReqs: 1},
		{name: "no validator: restarted", part: data[:size/3],
			meta:     func(u string) *partMeta { return &partMeta{URLDigest: urlDigest(u), Size: size} },
			wantReqs: 1},
		{name: "part longer than the file: restarted", part: append(append([]byte{}, data...), 1, 2, 3),
			meta:     func(u string) *partMeta { return &partMeta{URLDigest: urlDigest(u), ETag: etag, Size: size} },
			wantReqs: 1},
		{name: "complete part: published without a request", part: data,
			meta:     func(u string) *partMeta { return &partMeta{URLDigest: urlDigest(u), ETag: etag, Size: size} },
			wantReqs: 0},
		{name: "complete but corrupt part: downloaded again", part: content(size, 51),
			meta:     func(u string) *partMeta { return &partMeta{URLDigest: urlDigest(u), ETag: etag, Size: size} },
			wantReqs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeService(t)
			u := s.add("/f.bin", &fakeFile{data: data, etag: etag})
			d := newTest(t, Config{})
			part := filepath.Join(d.cfg.Dir, "f.bin.part")
			if err := os.WriteFile(part, tt.part, 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.meta != nil {
				if err := writeMetaPath(part+".meta", *tt.meta(u)); err != nil {
					t.Fatal(err)
				}
			} else if tt.rawMeta != nil {
				if err := os.WriteFile(part+".meta", tt.rawMeta, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			e := entry(u, "f.bin")
			if tt.name == "complete but corrupt part: downloaded again" {
				e.SHA256 = sha(data)
			}
			r := run(t, d, e)[0]
			if r.Status != Downloaded {
				t.Fatalf("Status = %s (%v), want downloaded", r.Status, r.Err)
			}
			checkFile(t, r.Path, data)
			if r.SHA256 != sha(data) {
				t.Errorf("SHA256 = %s, want %s", r.SHA256, sha(data))
			}
			seen := s.seenFor("/f.bin")
			if len(seen) != tt.wantReqs {
				t.Fatalf("requests = %d, want %d", len(seen), tt.wantReqs)
			}
			if len(seen) > 0 && seen[0].Range != tt.wantRange {
				t.Errorf("Range = %q, want %q", seen[0].Range, tt.wantRange)
			}
		})
	}
}

// TestPageDuringResumeKeepsPart: a login page answered to a resume must not
// wipe the bytes already received.
func TestPageDuringResumeKeepsPart(t *testing.T) {
	const size = 200 << 10
	data := content(size, 52)
	s := newFakeService(t)
	f := &fakeFile{data: data, cutAfter: cutFirst(1, size/2), reply: func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n != 2 {
			return false
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!DOCTYPE html><html><body>Sign in to Terrascope</body></html>"))
		return true
	}}
	r := run(t, newTest(t, Config{}), entry(s.add("/f.bin", f), "f.bin"))[0]
	if r.Status != Downloaded || r.Attempts != 3 {
		t.Fatalf("got %s after %d attempts (%v), want downloaded after 3", r.Status, r.Attempts, r.Err)
	}
	checkFile(t, r.Path, data)
	seen := s.seenFor("/f.bin")
	if want := "bytes=" + strconv.Itoa(size/2) + "-"; len(seen) != 3 || seen[2].Range != want {
		t.Errorf("requests %+v, want the third to resume with %s", seen, want)
	}
}

// TestRangeNotSatisfiable: a 416 to a resume restarts the file from zero.
func TestRangeNotSatisfiable(t *testing.T) {
	const size = 50 << 10
	data := content(size, 53)
	s := newFakeService(t)
	f := &fakeFile{data: data, cutAfter: cutFirst(1, size/2), reply: func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n != 2 {
			return false
		}
		w.Header().Set("Content-Range", "bytes */"+strconv.Itoa(size))
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return true
	}}
	r := run(t, newTest(t, Config{}), entry(s.add("/f.bin", f), "f.bin"))[0]
	if r.Status != Downloaded || r.Attempts != 3 {
		t.Fatalf("got %s after %d attempts (%v), want downloaded after 3", r.Status, r.Attempts, r.Err)
	}
	checkFile(t, r.Path, data)
	if seen := s.seenFor("/f.bin"); len(seen) != 3 || seen[2].Range != "" {
		t.Errorf("requests %+v, want the third from zero", seen)
	}
}
