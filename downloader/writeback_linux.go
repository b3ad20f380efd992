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

// preallocate reserves disk blocks for n bytes of f from off without
// changing its size (fallocate with FALLOC_FL_KEEP_SIZE), so that the
// file system allocates the part's extents once instead of at every write.
// The size stays the count of bytes received, which is what a resume reads
// as the part's length. Blocks reserved for bytes that never arrive stay
// beyond the end of the part until it is resumed, emptied or removed. off
// must be f's size. It is a hint: the caller may ignore the error (a file
// system without fallocate, a full disk, which the writes then report).
func preallocate(f *os.File, off, n int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	cerr := rc.Control(func(fd uintptr) {
		err = unix.Fallocate(int(fd), unix.FALLOC_FL_KEEP_SIZE, off, n)
		if err != nil && err != unix.EOPNOTSUPP {
			// A failed fallocate (say, a full disk for a size that a
			// service announced but will not send) may keep what it did
			// reserve: truncating to the unchanged size releases the
			// blocks past the end.
			unix.Ftruncate(int(fd), off)
		}
	})
	if cerr != nil {
		return cerr
	}
	return err
}
