package downloader

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/wcdl/wcdl/manifest"
	"github.com/wcdl/wcdl/output/outputtest"
)

// TestStreamChecks runs the downloader into a location that cannot read
// back what it holds (outputtest.NewStream, as a bucket): size, sha256=,
// md5= and the TIFF structure are checked on the stream, also across a
// resume (the digests go on from the state the location kept, the TIFF's
// first bytes are asked for again), and a file that fails a check is
// never published.
func TestStreamChecks(t *testing.T) {
	const size = 3 << 20
	good := tiffFile(t, size)
	truncated := tiffFile(t, size+4096)[:size] // strips point beyond its end
	// A TIFF whose first directory lies in the middle, beyond what the
	// stream keeps.
	far := slices.Clone(good)
	binary.LittleEndian.PutUint32(far[4:], size/2)
	const cut = 3*metaAfter + 1234
	for _, tt := range []struct {
		name     string
		data     []byte
		cut      int64 // the first answer is cut after this many bytes
		sha, md5 string
		wantErr  error
		wantReqs []string // Range headers, when given
		etagMD5  bool     // the service publishes an S3 ETag that is the MD5
	}{
		{name: "whole", data: good, sha: sha(good), md5: md5hex(good), wantReqs: []string{""}},
		{name: "cut and resumed", data: good, cut: cut, sha: sha(good), md5: md5hex(good),
			wantReqs: []string{"", fmt.Sprintf("bytes=0-%d", min(cut, streamHead)-1), fmt.Sprintf("bytes=%d-", cut)}},
		{name: "truncated TIFF", data: truncated, wantErr: ErrCorrupt},
		{name: "wrong sha256", data: good, sha: sha(truncated), wantErr: ErrChecksum},
		{name: "wrong md5 after a resume", data: good, cut: cut, md5: md5hex(truncated), wantErr: ErrChecksum},
		{name: "service digest, cut: starts over", data: good, cut: cut, etagMD5: true,
			wantReqs: []string{"", fmt.Sprintf("bytes=0-%d", min(cut, streamHead)-1), ""}},
		{name: "directory beyond what is kept", data: far, wantErr: ErrNotKept, wantReqs: []string{""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeService(t)
			f := &fakeFile{data: tt.data}
			if tt.etagMD5 {
				f.etag = `"` + md5hex(tt.data) + `"`
				f.reply = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
					w.Header().Set("x-amz-request-id", "test")
					return false
				}
			}
			if tt.cut > 0 {
				f.cutAfter = cutFirst(1, tt.cut)
			}
			u := s.add("/t.tif", f)
			mem := outputtest.NewStream()
			d := newTest(t, s.cfg(Config{Output: mem, Attempts: 3}))
			e := manifest.Entry{Raw: "t.tif", URL: u, Name: "t.tif", Size: -1, SHA256: tt.sha, MD5: tt.md5}
			r := run(t, d, e)[0]
			got, published := mem.Published("t.tif")
			if tt.wantErr != nil {
				if r.Status != Failed || !errors.Is(r.Err, tt.wantErr) {
					t.Fatalf("Status = %s (%v), want failed with %v", r.Status, r.Err, tt.wantErr)
				}
				if published {
					t.Errorf("a file that failed its checks was published (%d bytes)", len(got))
				}
			} else {
				if r.Status != Downloaded {
					t.Fatalf("Status = %s (%v), want downloaded", r.Status, r.Err)
				}
				if !published || sha(got) != sha(tt.data) {
					t.Fatalf("published %d bytes (ok %v), want the %d bytes served", len(got), published, len(tt.data))
				}
				if r.SHA256 != sha(tt.data) {
					t.Errorf("SHA256 = %s, want %s", r.SHA256, sha(tt.data))
				}
			}
			if tt.wantReqs != nil {
				var ranges []string
				for _, q := range s.seenFor("/t.tif") {
					ranges = append(ranges, q.Range)
				}
				if !slices.Equal(ranges, tt.wantReqs) {
					t.Errorf("Range headers %q, want %q", ranges, tt.wantReqs)
				}
			}
			if n := mem.Refused(); n != 0 {
				t.Errorf("%d writes refused by the append-only location, want 0", n)
			}
		})
	}
}
