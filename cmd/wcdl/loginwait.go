package main

import (
	"context"
	"sync"
	"time"
)

// A loginWatch sees the token provider's waits between two attempts of a
// grant, so that the bar can say the run waits for the login instead of
// standing at 0%.
type loginWatch struct {
	mu     sync.Mutex
	until  time.Time // end of the current wait; zero when not waiting
	failed int64     // attempts failed before the current wait
	now    func() time.Time
}

// sleep wraps the provider's sleep (nil: a timer, as auth's default) so
// that the watch knows when it waits.
func (w *loginWatch) sleep(inner func(ctx context.Context, d time.Duration) error) func(ctx context.Context, d time.Duration) error {
	if w == nil {
		return inner
	}
	if inner == nil {
		inner = sleepCtx
	}
	return func(ctx context.Context, d time.Duration) error {
		w.mu.Lock()
		w.until = w.now().Add(d)
		w.failed++
		w.mu.Unlock()
		defer func() {
			w.mu.Lock()
			w.until = time.Time{}
			w.mu.Unlock()
		}()
		return inner(ctx, d)
	}
}

// waiting returns how long the current wait has left (at least a moment
// while it lasts) and how many attempts failed; 0 when not waiting.
func (w *loginWatch) waiting() (time.Duration, int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.until.IsZero() {
		return 0, w.failed
	}
	return max(w.until.Sub(w.now()), time.Millisecond), w.failed
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
