//go:build !unix

package downloader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
)

// On systems without flock the lock only excludes Downloaders of the same
// process: two wcdl processes must not share an output folder there. The
// part is not held open, so that it can be renamed to its final name.

var (
	locksMu sync.Mutex
	locks   = map[string]chan struct{}{}
)

type partLock struct{ path string }

// lockPart takes the lock on the part at path, creating the part if it does
// not exist, and waits while another Downloader of this process holds it,
// until ctx ends. created reports whether this call created the part.
func lockPart(ctx context.Context, path string, onBusy func()) (l *partLock, created bool, err error) {
	for {
		locksMu.Lock()
		ch, held := locks[path]
		if !held {
			locks[path] = make(chan struct{})
			locksMu.Unlock()
			break
		}
		locksMu.Unlock()
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-ch:
		}
	}
	l = &partLock{path: path}
	f, err := openFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		if f, err := openFile(path, os.O_RDWR, 0); err != nil {
			l.unlock(false)
			return nil, false, err
		} else {
			f.Close()
		}
		return l, false, nil
	}
	if err != nil {
		l.unlock(false)
		return nil, false, fmt.Errorf("open partial file %s: %w", path, err)
	}
	f.Close()
	return l, true, nil
}

// size returns the part's size.
func (l *partLock) size() (int64, error) {
	fi, err := os.Lstat(l.path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// truncate empties the part, after checking that it is a regular file.
func (l *partLock) truncate() error {
	f, err := openFile(l.path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// unlock releases the lock, after removing the part if remove is set.
func (l *partLock) unlock(remove bool) {
	if remove {
		os.Remove(l.path)
	}
	locksMu.Lock()
	close(locks[l.path])
	delete(locks, l.path)
	locksMu.Unlock()
}

// syncDir is a no-op where folders cannot be opened for syncing.
func syncDir(string) error { return nil }
