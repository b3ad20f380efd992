//go:build !unix

package downloader

import (
	"context"
	"sync"
)

// On systems without flock the lock only excludes Downloaders of the same
// process: two wcdl processes must not share an output folder there.

var (
	locksMu sync.Mutex
	locks   = map[string]chan struct{}{}
)

type fileLock struct{ path string }

func lockFile(ctx context.Context, path string) (*fileLock, error) {
	for {
		locksMu.Lock()
		ch, held := locks[path]
		if !held {
			locks[path] = make(chan struct{})
			locksMu.Unlock()
			return &fileLock{path: path}, nil
		}
		locksMu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ch:
		}
	}
}

func (l *fileLock) unlock() {
	locksMu.Lock()
	close(locks[l.path])
	delete(locks, l.path)
	locksMu.Unlock()
}

// syncDir is a no-op where folders cannot be opened for syncing.
func syncDir(string) error { return nil }
