package downloader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wcdl/wcdl/manifest"
)

// cancelAfter is a client transport whose bodies cancel a context once n
// bytes of them have been read: the run is interrupted mid-file at an exact
// point.
type cancelAfter struct {
	n      int64
	cancel context.CancelFunc
	read   atomic.Int64
}

func (c *cancelAfter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		resp.Body = &cancelBody{ReadCloser: resp.Body, c: c}
	}
	return resp, err
}

type cancelBody struct {
	io.ReadCloser
	c *cancelAfter
}

func (b *cancelBody) Read(p []byte) (int, error) {
	if left := b.c.n - b.c.read.Load(); int64(len(p)) > left && left > 0 {
		p = p[:left]
	}
	n, err := b.ReadCloser.Read(p)
	if b.c.read.Add(int64(n)) >= b.c.n {
		b.c.cancel()
	}
	return n, err
}

// TestResumeAcrossRuns interrupts a first run mid-file, then finishes the
// file with a second Downloader on the same folder: the part and its
// metadata carry over, and the file is sent hardly more than once.
func TestResumeAcrossRuns(t *testing.T) {
	for _, cut := range []int64{metaAfter / 4, metaAfter + 100<<10} {
		t.Run(fmt.Sprintf("cut at %d", cut), func(t *testing.T) { testResumeAcrossRuns(t, cut) })
	}
}

// testResumeAcrossRuns cuts the first run after cut bytes: below metaAfter
// the metadata is written when the run stops, above it during the transfer.
func testResumeAcrossRuns(t *testing.T, cut int64) {
	const size = 1 << 20
	data := content(size, 11)
	s := newFakeService(t)
	f := &fakeFile{data: data, etag: `"v1"`, reply: func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n != 1 {
			return false
		}
		// Send the first bytes, then hold until the client goes away.
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Length", strconv.Itoa(size))
		n2, _ := w.Write(data[:cut])
		s.sent.Add(int64(n2))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return true
	}}
	entries := []manifest.Entry{
		entry(s.add("/a.bin", f), "a.bin"),
		entry(s.add("/b.bin", &fakeFile{data: content(100, 12)}), "b.bin"),
		entry(s.add("/c.bin", &fakeFile{data: content(100, 13)}), "c.bin"),
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := &cancelAfter{n: cut, cancel: cancel}
	d1 := newTest(t, Config{Dir: dir, Workers: 1, Client: &http.Client{Transport: tr}})
	res, err := d1.Run(ctx, entries)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first Run error = %v, want context.Canceled", err)
	}
	if len(res) != 3 {
		t.Fatalf("got %d results, want 3", len(res))
	}
	if r := res[0]; r.Status != Interrupted || r.Err != nil || r.Bytes != cut {
		t.Errorf("interrupted entry: %s, %d bytes, %v; want interrupted, %d bytes, no error", r.Status, r.Bytes, r.Err, cut)
	}
	for _, r := range res[1:] {
		if r.Status != NotStarted || !errors.Is(r.Err, ErrNotStarted) || !errors.Is(r.Err, context.Canceled) || r.Attempts != 0 {
			t.Errorf("%s: %s after %d attempts, %v; want not started, cancelled", r.Entry.Name, r.Status, r.Attempts, r.Err)
		}
	}
	if p := d1.Progress(); p.FilesDone != 3 || p.Interrupted != 1 || p.NotStarted != 2 || p.Failed != 0 {
		t.Errorf("Progress = %+v, want 1 interrupted, 2 not started, 0 failed", p)
	}
	part := filepath.Join(dir, "a.bin.part")
	if fi, err := os.Stat(part); err != nil || fi.Size() != cut {
		t.Fatalf("part after cancellation: %v, %v; want %d bytes", fi, err, cut)
	}
	if m, err := readMetaPath(part + ".meta"); err != nil || m.ETag != `"v1"` || m.Size != size {
		t.Fatalf("resume metadata beside the part: %+v, %v; want ETag \"v1\", size %d", m, err, size)
	}

	d2 := newTest(t, Config{Dir: dir, Workers: 1})
	res = run(t, d2, entries...)
	for i, r := range res {
		if r.Status != Downloaded {
			t.Fatalf("%s: second run %s (%v), want downloaded", r.Entry.Name, r.Status, r.Err)
		}
		if i == 0 && (r.Bytes != size-cut || r.SHA256 != sha(data)) {
			t.Errorf("resumed entry: Bytes %d SHA256 %s, want %d %s", r.Bytes, r.SHA256, size-cut, sha(data))
		}
	}
	checkFile(t, filepath.Join(dir, "a.bin"), data)
	if seen := s.seenFor("/a.bin"); len(seen) != 2 || seen[1].Range != "bytes="+strconv.FormatInt(cut, 10)+"-" {
		t.Errorf("requests for a.bin: %+v, want a second one for bytes=%d-", seen, cut)
	}
	if got := s.sent.Load(); float64(got) >= 1.3*size+200 {
		t.Errorf("server sent %d bytes for %d bytes of files, want less than 1.3×", got, size+200)
	}
	if p := d2.Progress(); p.BytesDone != p.BytesExpected || p.BytesDone != size-cut+200 {
		t.Errorf("Progress = %+v, want BytesDone = BytesExpected = %d", p, size-cut+200)
	}
}

// TestTwoDownloadersOneFolder runs two Downloaders with overlapping entries
// on one folder at once: every file is fetched once, by one of them, and the
// other finds it done.
func TestTwoDownloadersOneFolder(t *testing.T) {
	s := newFakeService(t)
	var all []manifest.Entry
	want := map[string][]byte{}
	for i := range 8 {
		name := "f" + strconv.Itoa(i) + ".bin"
		data := content(100<<10+i, uint64(20+i))
		want[name] = data
		all = append(all, entry(s.add("/"+name, &fakeFile{data: data}), name))
	}
	dir := t.TempDir()
	lists := [][]manifest.Entry{all[:6], all[2:]}
	results := make([][]Result, 2)
	var wg sync.WaitGroup
	for k := range lists {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := newTest(t, Config{Dir: dir, Workers: 3})
			res, err := d.Run(context.Background(), lists[k])
			if err != nil {
				t.Errorf("Run %d: %v", k, err)
			}
			results[k] = res
		}()
	}
	wg.Wait()
	downloaded := map[string]int{}
	for _, res := range results {
		for _, r := range res {
			switch r.Status {
			case Downloaded:
				downloaded[r.Entry.Name]++
			case Skipped:
			default:
				t.Errorf("%s: %s (%v), want downloaded or skipped", r.Entry.Name, r.Status, r.Err)
			}
		}
	}
	for name, data := range want {
		checkFile(t, filepath.Join(dir, name), data)
		if downloaded[name] != 1 {
			t.Errorf("%s downloaded %d times, want once", name, downloaded[name])
		}
		if n := len(s.seenFor("/" + name)); n != 1 {
			t.Errorf("%s requested %d times, want once", name, n)
		}
	}
}

// TestLockPart: a held lock makes others wait; unlock with remove leaves
// no part, and the next holder creates a new one.
func TestLockPart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.bin.part")
	l, created, err := lockPartPath(context.Background(), path, nil)
	if err != nil || !created {
		t.Fatalf("first lock: created %v, %v; want a new part", created, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := lockPartPath(ctx, path, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("second lock while held: %v, want context.Canceled", err)
	}
	if err := os.WriteFile(path, []byte("bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := make(chan bool, 1)
	go func() {
		l2, created, err := lockPartPath(context.Background(), path, nil)
		if err != nil {
			t.Errorf("lock after release: %v", err)
		} else {
			l2.unlock(true)
		}
		got <- created
	}()
	l.unlock(true)
	if created := <-got; !created {
		t.Errorf("lock after the holder removed the part: created = false, want a new part")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("part left behind after unlock(true): %v", err)
	}
}

// TestStalledTransferResumes: a server that stops sending mid-body is cut
// after StallTimeout and the file resumes on a new request.
func TestStalledTransferResumes(t *testing.T) {
	const size = 200 << 10
	data := content(size, 70)
	s := newFakeService(t)
	f := &fakeFile{data: data, etag: `"v1"`, reply: func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n != 1 {
			return false
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Write(data[:size/2])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // stall until the client gives up
		return true
	}}
	d := newTest(t, Config{StallTimeout: 50 * time.Millisecond})
	r := run(t, d, entry(s.add("/f.bin", f), "f.bin"))[0]
	if r.Status != Downloaded || r.Attempts != 2 {
		t.Fatalf("got %s after %d attempts (%v), want downloaded after 2", r.Status, r.Attempts, r.Err)
	}
	checkFile(t, r.Path, data)
	if seen := s.seenFor("/f.bin"); len(seen) != 2 || seen[1].Range != "bytes="+strconv.Itoa(size/2)+"-" {
		t.Errorf("requests %+v, want the second to resume from %d", seen, size/2)
	}
}
