package downloader

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzReadMeta feeds arbitrary bytes to the resume metadata reader, as a
// crash, a full disk or another account could leave them: it never
// panics, accepts only a complete description (a URL digest and a size
// that is not negative), and what it accepts survives a write and a read
// unchanged.
func FuzzReadMeta(f *testing.F) {
	for _, seed := range []string{
		`{"url_sha256":"ab","etag":"\"v1\"","size":10}`,
		`{"url_sha256":"ab","last_modified":"Sun, 22 Nov 2026 20:00:00 GMT","size":0}`,
		`{"url":"https://h/x?sig=1","etag":"\"v1\"","size":10}`,
		`{"url_sha256":"ab","size":-1}`,
		`{"url_sha256":"ab","etag":"\"v1\"","size":10`,
		"\x00\x00\x00\x00",
		``,
		`[]`,
		`{"url_sha256":"ab","size":1e30}`,
		`{"ranges_url_sha256":"ab","etag":"\"v1\"","size":10,"done":[{"start":0,"end":3},{"start":5,"end":10}]}`,
		`{"url_sha256":"ab","etag":"\"v1\"","size":10,"done":[{"start":0,"end":3},{"start":5,"end":10}]}`,
		`{"ranges_url_sha256":"ab","etag":"\"v1\"","size":10}`,
		`{"url_sha256":"ab","etag":"\"v1\"","size":10,"done":[{"start":0,"end":3},{"start":3,"end":10}]}`,
		`{"url_sha256":"ab","etag":"\"v1\"","size":10,"done":[{"start":5,"end":11}]}`,
		`{"url_sha256":"ab","etag":"\"v1\"","size":10,"done":[{"start":4,"end":4}]}`,
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMeta("meta", b)
		if err != nil {
			if !errors.Is(err, errBadMeta) {
				t.Fatalf("error %v does not wrap errBadMeta", err)
			}
			return
		}
		if m.URLDigest == "" || m.Size < 0 {
			t.Fatalf("accepted an incomplete description %+v from %q", m, b)
		}
		for i, s := range m.Done {
			if s.Start < 0 || s.End <= s.Start || s.End > m.Size || (i > 0 && s.Start <= m.Done[i-1].End) {
				t.Fatalf("accepted spans that are empty, out of the file, out of order or touching: %+v from %q", m.Done, b)
			}
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		p := filepath.Join(dir, "m")
		os.Remove(p)
		if err := writeMetaPath(p, m); err != nil {
			t.Fatal(err)
		}
		got, err := readMetaPath(p)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip: got %+v, %v; want %+v", got, err, m)
		}
	})
}
