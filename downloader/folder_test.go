//go:build unix

package downloader

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// holdBody returns a reply hook that answers the first request with the
// headers and the first n bytes of data (no validator unless etag), says
// so on sent, then waits for release before it sends the rest, or drops
// the connection without it if cut. Later requests are served as usual.
func holdBody(data []byte, n int, etag string, cut bool, sent chan<- struct{}, release <-chan struct{}) func(int, http.ResponseWriter, *http.Request) bool {
	return func(req int, w http.ResponseWriter, r *http.Request) bool {
		if req != 1 {
			return false
		}
		if etag != "" {
			w.Header().Set("ETag", etag)
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:n])
		w.(http.Flusher).Flush()
		sent <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return true
		}
		if cut {
			panic(http.ErrAbortHandler)
		}
		w.Write(data[n:])
		return true
	}
}

// TestFolderSwappedForLinkMidRun renames the output folder away while a
// file is being received and puts a link to another folder in its place:
// every later open, write, rename and removal must stay in the folder the
// run opened, for that file and for the next one, so nothing lands in the
// link's target, and both files are published, whole, in the folder the
// run opened, where it moved to.
func TestFolderSwappedForLinkMidRun(t *testing.T) {
	data := content(4*metaAfter, 33) // large enough to get a .part.meta
	for _, tt := range []struct {
		name string
		cut  bool // the held answer is cut: the rest comes by a resume
	}{
		{name: "body goes on"},
		{name: "body cut, resumed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeService(t)
			sent, release := make(chan struct{}, 1), make(chan struct{})
			f := &fakeFile{data: data, etag: `"v1"`}
			f.reply = holdBody(data, 1000, f.etag, tt.cut, sent, release)
			u := s.add("/f.bin", f)
			next := content(1000, 35)
			u2 := s.add("/g.bin", &fakeFile{data: next})
			base := t.TempDir()
			dir := filepath.Join(base, "out")
			moved := filepath.Join(base, "out.moved")
			target := filepath.Join(base, "elsewhere")
			if err := os.Mkdir(target, 0o755); err != nil {
				t.Fatal(err)
			}
			d := newTest(t, Config{Dir: dir, Attempts: 3, Workers: 1})
			wrote := make(chan struct{}, 1)
			d.failWrite = func() error { // called before each write into the part
				select {
				case wrote <- struct{}{}:
				default:
				}
				return nil
			}
			done := make(chan []Result, 1)
			go func() {
				res, _ := d.Run(context.Background(), []manifest.Entry{entry(u, "f.bin"), entry(u2, "g.bin")})
				done <- res
			}()
			<-sent
			<-wrote // the run holds the file's part and writes into it
			if err := os.Rename(dir, moved); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, dir); err != nil {
				t.Fatal(err)
			}
			close(release)
			res := <-done

			if ents, err := os.ReadDir(target); err != nil || len(ents) != 0 {
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Fatalf("the link's target holds %q (%v), want nothing", names, err)
			}
			for _, r := range res {
				if r.Status != Downloaded {
					t.Fatalf("%s: Status = %s (%v), want downloaded", r.Entry.Name, r.Status, r.Err)
				}
			}
			checkFile(t, filepath.Join(moved, "f.bin"), data)
			checkFile(t, filepath.Join(moved, "g.bin"), next)
		})
	}
}

// TestPartWithoutValidatorIsRemoved cuts or interrupts a file whose
// answers carry no validator (no ETag, no Last-Modified): its part cannot
// be resumed by any later run, so it is removed when the entry ends, with
// no metadata beside it. With a strong ETag the same part is kept.
func TestPartWithoutValidatorIsRemoved(t *testing.T) {
	data := content(4*metaAfter, 34)
	for _, tt := range []struct {
		name      string
		etag      string
		interrupt bool // cancel the run while the body is held; else cut it
		wantPart  bool
		want      Status
	}{
		{name: "cut, no validator", want: Failed},
		{name: "interrupted, no validator", interrupt: true, want: Interrupted},
		{name: "cut, strong ETag", etag: `"v1"`, want: Failed, wantPart: true},
		{name: "interrupted, strong ETag", etag: `"v1"`, interrupt: true, want: Interrupted, wantPart: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeService(t)
			f := &fakeFile{data: data, etag: tt.etag}
			f.reply = func(n int, w http.ResponseWriter, r *http.Request) bool {
				if tt.etag != "" {
					w.Header().Set("ETag", tt.etag)
				}
				w.Header().Set("Content-Type", "application/octet-stream")
				w.Header().Set("Content-Length", strconv.Itoa(len(data)))
				w.WriteHeader(http.StatusOK) // a Range is ignored: a whole answer, cut
				w.Write(data[:sniffLen*n])
				w.(http.Flusher).Flush()
				if tt.interrupt {
					<-r.Context().Done() // held until the run is interrupted
					return true
				}
				panic(http.ErrAbortHandler)
			}
			u := s.add("/f.bin", f)
			dir := t.TempDir()
			d := newTest(t, Config{Dir: dir, Attempts: 2})
			wrote := make(chan struct{}, 1)
			d.failWrite = func() error { // called before each write into the part
				select {
				case wrote <- struct{}{}:
				default:
				}
				return nil
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan []Result, 1)
			go func() {
				res, _ := d.Run(ctx, []manifest.Entry{entry(u, "f.bin")})
				done <- res
			}()
			if tt.interrupt {
				<-wrote // the sniffed head is going into the part
				cancel()
			}
			r := (<-done)[0]
			if r.Status != tt.want {
				t.Fatalf("Status = %s (%v), want %s", r.Status, r.Err, tt.want)
			}
			part := filepath.Join(dir, "f.bin.part")
			fi, err := os.Stat(part)
			if got := err == nil; got != tt.wantPart {
				t.Fatalf("part kept = %v (%v), want %v", got, err, tt.wantPart)
			}
			if tt.wantPart && fi.Size() == 0 {
				t.Errorf("part kept empty, want the bytes received")
			}
			if _, err := os.Stat(part + ".meta"); (err == nil) != tt.wantPart {
				t.Errorf("metadata kept = %v, want %v", err == nil, tt.wantPart)
			}
		})
	}
}
