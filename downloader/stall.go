package downloader

import (
	"fmt"
	"time"
)

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
