package downloader

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/wcdl/wcdl/manifest"
	"github.com/wcdl/wcdl/output/outputtest"
)

// TestOutputLocation runs the downloader into an output.Location other
// than the local folder (outputtest.Memory): a location that writes at
// any offset gets parallel ranges, one that only appends (as a bucket's
// multipart upload) gets one stream, resumed from what it holds after a
// cut, and never a write it must refuse; both end with the file
// published whole, and with nothing left in the slot.
func TestOutputLocation(t *testing.T) {
	const size = 1 << 20
	data := content(size, 61)
	for _, tt := range []struct {
		name       string
		appendOnly bool
		cut        int64 // the first answer is cut after this many bytes
		wantSplit  bool
	}{
		{name: "writes at any offset", wantSplit: true},
		{name: "appends only", appendOnly: true},
		{name: "appends only, cut and resumed", appendOnly: true, cut: 3*metaAfter + 1234},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeService(t)
			f := &fakeFile{data: data}
			if tt.cut > 0 {
				f.cutAfter = cutFirst(1, tt.cut)
			}
			u := s.add("/f.bin", f)
			mem := outputtest.New(tt.appendOnly)
			d := rangeTest(t, s, Config{Output: mem, Workers: 4})
			var split atomic.Int64
			d.onSplit = func(n int) { split.Store(int64(n)) }
			r := run(t, d, entry(u, "f.bin"))[0]
			if r.Status != Downloaded {
				t.Fatalf("Status = %s (%v), want downloaded", r.Status, r.Err)
			}
			if got, want := r.Path, "mem:f.bin"; got != want {
				t.Errorf("Path = %q, want %q", got, want)
			}
			got, ok := mem.Published("f.bin")
			if !ok || sha(got) != sha(data) {
				t.Fatalf("published %d bytes (ok %v), want the %d bytes served", len(got), ok, len(data))
			}
			if r.SHA256 != sha(data) {
				t.Errorf("SHA256 = %s, want %s", r.SHA256, sha(data))
			}
			if n := mem.Refused(); n != 0 {
				t.Errorf("%d writes refused by the append-only location, want 0", n)
			}
			if gotSplit := split.Load() > 1; gotSplit != tt.wantSplit {
				t.Errorf("split into %d ranges; want split %v", split.Load(), tt.wantSplit)
			}
			if _, _, ok := mem.Slot("f.bin"); ok {
				t.Errorf("a slot is left after the file was published")
			}
			if tt.cut > 0 {
				ranges := []string{}
				for _, q := range s.seenFor("/f.bin") {
					ranges = append(ranges, q.Range)
				}
				if want := []string{"", fmt.Sprintf("bytes=%d-", tt.cut)}; !slices.Equal(ranges, want) {
					t.Errorf("Range headers %q, want %q: resumed from what the location holds", ranges, want)
				}
			}
		})
	}
}

// TestOutputLocationSkipsByDigest skips a file complete in the location
// when the SHA-256 the location stores matches the manifest's, without a
// request, and downloads it again when it differs although the size is
// the same.
func TestOutputLocationSkipsByDigest(t *testing.T) {
	data := content(4096, 62)
	other := content(4096, 63)
	for _, tt := range []struct {
		name     string
		stored   []byte
		want     Status
		requests int
	}{
		{name: "same digest", stored: data, want: Skipped},
		{name: "other digest, same size", stored: other, want: Downloaded, requests: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeService(t)
			u := s.add("/f.bin", &fakeFile{data: data})
			mem := outputtest.New(true)
			mem.Put("f.bin", tt.stored)
			d := newTest(t, Config{Output: mem})
			e := manifest.Entry{Raw: "f.bin", URL: u, Name: "f.bin", Size: int64(len(data)), SHA256: sha(data)}
			r := run(t, d, e)[0]
			if r.Status != tt.want {
				t.Fatalf("Status = %s (%v), want %s", r.Status, r.Err, tt.want)
			}
			if n := len(s.seenFor("/f.bin")); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			if got, _ := mem.Published("f.bin"); sha(got) != sha(data) {
				t.Errorf("published file is not the one served")
			}
		})
	}
}
