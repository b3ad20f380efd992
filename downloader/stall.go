package downloader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// headerTimeout bounds the wait for the response headers of every request,
// whatever transport the client brings (the authentication transport
// included): a server that accepts the connection and never answers costs
// one attempt, retried like any transport error, never a worker forever.
type headerTimeout struct {
	next http.RoundTripper
	d    time.Duration
}

// errNoHeaders is the cause of a request cut by headerTimeout.
var errNoHeaders = errors.New("no response headers")

func (h headerTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	t := time.AfterFunc(h.d, func() { cancel(errNoHeaders) })
	resp, err := h.next.RoundTrip(req.WithContext(ctx))
	if !t.Stop() && context.Cause(ctx) == errNoHeaders && req.Context().Err() == nil {
		if resp != nil {
			resp.Body.Close()
		}
		cancel(nil)
		return nil, fmt.Errorf("%w: no response headers within %v", ErrStalled, h.d)
	}
	if err != nil {
		cancel(nil)
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose releases the request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel(nil)
	return err
}

// rateWindow cuts a transfer whose average rate over each window of span
// stays below min bytes per second (Config.MinRate over
// Config.StallTimeout), so that a server trickling a byte at a time cannot
// hold a worker for a day. The zero value never cuts.
type rateWindow struct {
	min   int64
	span  time.Duration
	now   func() time.Time
	start time.Time
	bytes int64
}

func newRateWindow(min int64, span time.Duration, now func() time.Time) rateWindow {
	if min <= 0 {
		return rateWindow{}
	}
	return rateWindow{min: min, span: span, now: now, start: now()}
}

// add counts n bytes received and returns ErrTooSlow once a whole window
// has passed below the minimum rate.
func (w *rateWindow) add(n int) error {
	if w.min <= 0 {
		return nil
	}
	w.bytes += int64(n)
	el := w.now().Sub(w.start)
	if el < w.span {
		return nil
	}
	if float64(w.bytes) < float64(w.min)*el.Seconds() {
		return fmt.Errorf("%w: %d bytes in %v, below %d bytes/s", ErrTooSlow, w.bytes, el.Round(time.Millisecond), w.min)
	}
	w.start, w.bytes = w.start.Add(el), 0
	return nil
}
