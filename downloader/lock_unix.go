//go:build unix

package downloader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockPoll is how often a worker retries a lock held by another process.
const lockPoll = 20 * time.Millisecond

// fileLock is an exclusive advisory lock (flock) on a <name>.lock file.
type fileLock struct {
	path string
	f    *os.File
}

// lockFile takes the exclusive lock on path, creating the file, and waits
// while another process (or another Downloader) holds it, until ctx ends.
//
// The lock file is removed on unlock. A waiter that wakes up holding the lock
// of a file that was removed meanwhile retries with the new file, so two
// holders never lock different files of the same name.
func lockFile(ctx context.Context, path string) (*fileLock, error) {
	var tick *time.Ticker
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open lock %s: %w", path, err)
		}
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			if sameFile(f, path) {
				return &fileLock{path: path, f: f}, nil
			}
			f.Close() // the holder before us removed it: lock the new one
			continue
		}
		f.Close()
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if tick == nil {
			tick = time.NewTicker(lockPoll)
			defer tick.Stop()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// unlock removes the lock file and releases the lock.
func (l *fileLock) unlock() {
	os.Remove(l.path)
	l.f.Close()
}

// syncDir flushes the folder entry of a renamed file to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
