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

// partLock is an exclusive advisory lock (flock) on a file's <name>.part,
// held through an open descriptor of the part for as long as the file is
// being downloaded. The lock travels with the part's inode: when the holder
// renames the part to its final name, the final file stays locked until
// unlock, and the part's name is free.
type partLock struct {
	dir  *dirHandle
	name string
	f    *os.File
}

// lockPart takes the exclusive lock on the part name in dir, creating the part
// if it does not exist, and waits while another process (or another
// Downloader) holds it, until ctx ends. created reports whether this call
// created the part's file. onBusy, if not nil, is called each time the
// lock is found held, before waiting.
//
// A waiter can open the part just before its holder renames it to the final
// name (or removes it) and lock it once the holder lets go: it then holds
// the lock of a file that is no longer at path. lockPart checks for that
// and starts over with the file now at name, so two holders never lock
// different files of the same name.
//
// While the lock is held, the name must keep naming the locked file:
// it may be truncated or renamed to the final name, never removed and
// created again (the new file would not be locked).
func lockPart(ctx context.Context, dir *dirHandle, name string, onBusy func()) (l *partLock, created bool, err error) {
	var tick *time.Ticker
	for {
		f, err := dir.open(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		created = err == nil
		if errors.Is(err, os.ErrExist) {
			f, err = dir.open(name, os.O_RDWR, 0)
			if errors.Is(err, os.ErrNotExist) {
				continue // removed or renamed meanwhile: create it
			}
		}
		if err != nil {
			if errors.Is(err, ErrNotRegular) {
				return nil, false, err
			}
			return nil, false, fmt.Errorf("open partial file %s: %w", dir.join(name), err)
		}
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			if created || dir.sameFile(f, name) {
				return &partLock{dir: dir, name: name, f: f}, created, nil
			}
			f.Close() // the holder before us renamed or removed it
			continue
		}
		f.Close()
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return nil, false, fmt.Errorf("lock %s: %w", dir.join(name), err)
		}
		if onBusy != nil {
			onBusy()
		}
		if tick == nil {
			tick = time.NewTicker(lockPoll)
			defer tick.Stop()
		}
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-tick.C:
		}
	}
}

// size returns the locked part's size, read from its descriptor.
func (l *partLock) size() (int64, error) {
	fi, err := l.f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// truncate empties the locked part through its descriptor, never through
// its name, which another account could have replaced with a link.
func (l *partLock) truncate() error { return l.f.Truncate(0) }

// unlock releases the lock. With remove set, it first removes the part
// (still the locked file: see lockPart), so no waiter can lock it after.
func (l *partLock) unlock(remove bool) {
	if remove {
		l.dir.remove(l.name)
	}
	l.f.Close()
}

// file returns the locked part, open for reading and writing.
func (l *partLock) file() (*os.File, error) { return l.f, nil }

// release closes what file returned before the part is renamed; the lock
// travels with the part's inode and holds until unlock.
func (l *partLock) release() {}
