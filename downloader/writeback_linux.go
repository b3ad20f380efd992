//go:build linux

package downloader

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing n bytes of f from off to
// disk without waiting for it (sync_file_range with SYNC_FILE_RANGE_WRITE),
// so that the fsync before the part's rename finds little left to write. It
// is a hint: errors are ignored, and the fsync reports any write error.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
