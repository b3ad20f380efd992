package main

import (
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"github.com/wcdl/wcdl/downloader"
	"github.com/wcdl/wcdl/manifest"
)

// TestStorageFullToldOnce: a full disk, an exhausted quota or a read-only
// file system stops the batch, and the line that says so is the only one
// about it: the files that met it, or that the stop cut, get no line of
// their own, in the plain per-file lines nor under -q. A file that failed
// for a reason of its own still gets its line.
func TestStorageFullToldOnce(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS} {
		t.Run(errno.Error(), func(t *testing.T) {
			full := fmt.Errorf("download https://example.org/a.tif: write partial file: %w",
				&fs.PathError{Op: "write", Path: "out/a.tif.part", Err: errno})
			results := []downloader.Result{
				{Entry: manifest.Entry{Raw: "a.tif", Name: "a.tif"}, Path: "out/a.tif", Status: downloader.Failed, Err: full},
				{Entry: manifest.Entry{Raw: "b.tif", Name: "b.tif"}, Path: "out/b.tif", Status: downloader.Failed,
					Err: fmt.Errorf("https://example.org/b.tif: interrupted: %w", full)},
				{Entry: manifest.Entry{Raw: "c.tif", Name: "c.tif"}, Path: "out/c.tif", Status: downloader.Failed,
					Err: fmt.Errorf("download https://example.org/c.tif: %w", downloader.ErrNotFound)},
			}
			runErr := full

			var buf syncBuffer
			scr := newScreen(&buf)
			p := newProgress("plain", newConsole(scr, false), scr, len(results))
			p.start(func() downloader.Progress { return downloader.Progress{} })
			for _, r := range results {
				p.result(r)
			}
			p.stop(runErr)
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "c.tif") {
				t.Errorf("plain lines:\n%s\nwant only the line of c.tif, which failed for its own reason", buf.String())
			}

			// -q prints the failures the stop line does not cover.
			var told []string
			for _, r := range results {
				if !coveredByStop(r, runErr) {
					told = append(told, r.Entry.Name)
				}
			}
			if strings.Join(told, ",") != "c.tif" {
				t.Errorf("-q tells %v, want only c.tif", told)
			}
		})
	}
}
