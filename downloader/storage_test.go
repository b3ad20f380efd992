package downloader

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// TestStorageFullStopsBatch makes the disk fill up (ENOSPC) or turn
// read-only (EROFS) during a batch: the batch stops at once with that
// error, the file that met it is not retried, no other file is started,
// and the bytes received are kept with their metadata for the next run.
func TestStorageFullStopsBatch(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS} {
		t.Run(errno.Error(), func(t *testing.T) {
			data := content(2<<20, 14)
			s := newFakeService(t)
			var entries []manifest.Entry
			for i := range 8 {
				name := "f" + string(rune('a'+i)) + ".bin"
				entries = append(entries, entry(s.add("/"+name, &fakeFile{data: data}), name))
			}
			dir := t.TempDir()
			d := newTest(t, Config{Dir: dir, Workers: 2, Attempts: 5})
			var writes atomic.Int64
			d.failWrite = func() error {
				if writes.Add(1) > 6 { // a few writes succeed, then the disk is full
					return errno
				}
				return nil
			}
			res, err := d.Run(t.Context(), entries)
			if !errors.Is(err, errno) {
				t.Fatalf("Run error %v, want %v", err, errno)
			}
			var hit, notStarted int
			for _, r := range res {
				want := Failed
				switch {
				case errors.Is(r.Err, ErrNotStarted):
					want = NotStarted
				case r.Err == nil && r.Bytes > 0:
					want = Interrupted // under way when the disk filled: part kept
				}
				if r.Status != want {
					t.Errorf("%s: Status %s, want %s (%v)", r.Entry.Name, r.Status, want, r.Err)
				}
				if errors.Is(r.Err, errno) && !errors.Is(r.Err, ErrNotStarted) && !strings.Contains(r.Err.Error(), "interrupted") {
					hit++
					if r.Attempts != 1 {
						t.Errorf("%s: %d attempts, want 1: a full disk is not retried", r.Entry.Name, r.Attempts)
					}
				}
				if errors.Is(r.Err, ErrNotStarted) {
					notStarted++
				}
			}
			if hit < 1 || hit > 2 || notStarted < len(entries)-4 {
				t.Errorf("%d files met the error, %d not started; want 1 or 2 and the rest mostly not started", hit, notStarted)
			}
			if got := s.requests.Load(); got > 4 {
				t.Errorf("%d requests, want at most one per worker and file in flight", got)
			}
			// What was received is kept for the next run.
			kept := 0
			for _, r := range res {
				p := filepath.Join(dir, r.Entry.Name+".part")
				if fi, err := os.Stat(p); err == nil && fi.Size() > 0 {
					kept++
					if _, err := readMetaPath(p + ".meta"); err != nil {
						t.Errorf("%s kept without metadata: %v", p, err)
					}
				}
			}
			if kept == 0 {
				t.Error("no partial file kept")
			}
		})
	}
}
