package downloader

import (
	"errors"
	"syscall"
)

// isStorageFull reports errors of the output folder's file system that
// every other file will meet too: a full disk (ENOSPC), an exhausted quota
// (EDQUOT) and a read-only file system (EROFS). They stop the batch with
// one message instead of failing every file in turn; the partial files
// that can be resumed are kept for the next run.
func isStorageFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS)
}
