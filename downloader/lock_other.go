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
// part is held open only while it is written, so that it can be renamed
// to its final name.

var (
	locksMu sync.Mutex
	locks   = map[string]chan struct{}{}
)

type partLock struct {
	dir  *dirHandle
	name string
	key  string
	f    *os.File // open while written, see file
}

// lockPart takes the lock on the part name in dir, creating the part if it
// does not exist, and waits while another Downloader of this process holds
// it, until ctx ends. created reports whether this call created the part.
func lockPart(ctx context.Context, dir *dirHandle, name string, onBusy func()) (l *partLock, created bool, err error) {
	key := dir.join(name)
	for {
		locksMu.Lock()
		ch, held := locks[key]
		if !held {
			locks[key] = make(chan struct{})
			locksMu.Unlock()
			break
		}
		locksMu.Unlock()
		if onBusy != nil {
			onBusy()
		}
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-ch:
		}
	}
	l = &partLock{dir: dir, name: name, key: key}
	f, err := dir.open(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		if f, err := dir.open(name, os.O_RDWR, 0); err != nil {
			l.unlock(false)
			return nil, false, err
		} else {
			l.f = f
		}
		return l, false, nil
	}
	if err != nil {
		l.unlock(false)
		return nil, false, fmt.Errorf("open partial file %s: %w", key, err)
	}
	l.f = f
	return l, true, nil
}

// file returns the part, open for reading and writing.
func (l *partLock) file() (*os.File, error) {
	if l.f == nil {
		f, err := l.dir.open(l.name, os.O_RDWR, 0)
		if err != nil {
			return nil, err
		}
		l.f = f
	}
	return l.f, nil
}

// release closes the part, so that it can be renamed.
func (l *partLock) release() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// size returns the part's size.
func (l *partLock) size() (int64, error) {
	f, err := l.file()
	if err != nil {
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// truncate empties the part, after checking that it is a regular file.
func (l *partLock) truncate() error {
	f, err := l.file()
	if err != nil {
		return err
	}
	return f.Truncate(0)
}

// unlock releases the lock, after removing the part if remove is set.
func (l *partLock) unlock(remove bool) {
	l.release()
	if remove {
		l.dir.remove(l.name)
	}
	locksMu.Lock()
	close(locks[l.key])
	delete(locks, l.key)
	locksMu.Unlock()
}
