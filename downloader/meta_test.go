package downloader

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// observeReads is a client transport whose bodies call each before every
// Read with the bytes read so far: by then the downloader has written all
// of them into the part, so each call sees the folder as a crash at that
// moment would leave it.
type observeReads struct {
	each func(read int64)
}

func (o *observeReads) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		resp.Body = &observedBody{ReadCloser: resp.Body, o: o}
	}
	return resp, err
}

type observedBody struct {
	io.ReadCloser
	o    *observeReads
	read int64
}

func (b *observedBody) Read(p []byte) (int, error) {
	b.o.each(b.read)
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	return n, err
}

// TestMetaWrittenLazily watches the folder during transfers: a file up to
// metaAfter bytes never gets a .part.meta, a larger one gets it once
// metaAfter bytes are in the part. What a crash right after would leave
// (the part and its meta, copied to another folder) resumes there with a
// range request.
func TestMetaWrittenLazily(t *testing.T) {
	tests := []struct {
		name     string
		size     int
		wantMeta bool
	}{
		{name: "small file", size: 100 << 10},
		{name: "file of metaAfter bytes", size: metaAfter},
		{name: "large file", size: 4 * metaAfter, wantMeta: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := content(tt.size, 80)
			s := newFakeService(t)
			e := entry(s.add("/f.bin", &fakeFile{data: data}), "f.bin")
			dir, crashDir := t.TempDir(), t.TempDir()
			part := filepath.Join(dir, "f.bin.part")
			seenAt, copied := int64(-1), int64(-1)
			var observeErr error
			o := &observeReads{each: func(read int64) {
				if seenAt >= 0 || observeErr != nil {
					return
				}
				_, err := os.Stat(part + ".meta")
				if errors.Is(err, os.ErrNotExist) {
					return
				}
				seenAt = read
				// Keep what a crash now would leave behind.
				for _, suffix := range []string{".part", ".part.meta"} {
					b, err := os.ReadFile(filepath.Join(dir, "f.bin"+suffix))
					if err == nil {
						err = os.WriteFile(filepath.Join(crashDir, "f.bin"+suffix), b, 0o644)
					}
					if err != nil {
						observeErr = err
					}
					if suffix == ".part" {
						copied = int64(len(b))
					}
				}
			}}
			d := newTest(t, Config{Dir: dir, Client: &http.Client{Transport: o}})
			r := run(t, d, e)[0]
			if r.Status != Downloaded {
				t.Fatalf("got %s (%v), want downloaded", r.Status, r.Err)
			}
			checkFile(t, r.Path, data)
			if observeErr != nil {
				t.Fatalf("copying the part: %v", observeErr)
			}
			if !tt.wantMeta {
				if seenAt >= 0 {
					t.Errorf("%s appeared after %d of %d bytes, want no metadata for a file of at most %d bytes", part+".meta", seenAt, tt.size, metaAfter)
				}
				return
			}
			if seenAt < metaAfter || seenAt >= int64(tt.size) {
				t.Fatalf("metadata appeared after %d of %d bytes, want after %d and before the end", seenAt, tt.size, metaAfter)
			}
			if copied != seenAt {
				t.Fatalf("part held %d bytes when %d were read, want all of them written", copied, seenAt)
			}

			// A later run on what the crash left resumes the part.
			r = run(t, newTest(t, Config{Dir: crashDir}), e)[0]
			if r.Status != Downloaded || r.Bytes != int64(tt.size)-copied {
				t.Fatalf("after the crash: %s, %d bytes (%v); want downloaded, %d bytes", r.Status, r.Bytes, r.Err, int64(tt.size)-copied)
			}
			checkFile(t, r.Path, data)
			seen := s.seenFor("/f.bin")
			if want := "bytes=" + strconv.FormatInt(copied, 10) + "-"; len(seen) != 2 || seen[1].Range != want {
				t.Errorf("requests %+v, want a second one for %s", seen, want)
			}
		})
	}
}
