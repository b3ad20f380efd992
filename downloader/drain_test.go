package downloader

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/wcdl/wcdl/downloader/hostiletest"
	"github.com/wcdl/wcdl/manifest"
)

// TestStalledAnswerBodies checks that every byte read after the headers is
// under the stall timeout, on every status and whoever reads it: the body
// of a 429 or 503 that the throttle looks into, of a 5xx that the retry
// library drains before the next try, of a redirect that net/http drains
// before it follows. Each stops after a few bytes; the run must end on its
// own, the stuck reads cut, not waited for.
func TestStalledAnswerBodies(t *testing.T) {
	data := content(50<<10, 29)
	good := hostiletest.New(data)
	t.Cleanup(good.Close)
	tests := []struct {
		name       string
		opts       []hostiletest.Option
		wantStatus Status
		wantErr    error
	}{
		{name: "429", opts: []hostiletest.Option{hostiletest.WithStatus(http.StatusTooManyRequests)},
			wantStatus: Failed, wantErr: ErrHTTPStatus},
		{name: "503", opts: []hostiletest.Option{hostiletest.WithStatus(http.StatusServiceUnavailable)},
			wantStatus: Failed, wantErr: ErrHTTPStatus},
		{name: "500", opts: []hostiletest.Option{hostiletest.WithStatus(http.StatusInternalServerError)},
			wantStatus: Failed, wantErr: ErrHTTPStatus},
		{name: "502", opts: []hostiletest.Option{hostiletest.WithStatus(http.StatusBadGateway)},
			wantStatus: Failed, wantErr: ErrHTTPStatus},
		{name: "302 to a good server", opts: []hostiletest.Option{hostiletest.WithRedirect(good.URL + "/f.bin")},
			wantStatus: Downloaded},
		{name: "307 to a good server", opts: []hostiletest.Option{hostiletest.WithStatus(http.StatusTemporaryRedirect),
			hostiletest.WithRedirect(good.URL + "/f.bin")}, wantStatus: Downloaded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, e := hostile(t, data, append(tt.opts, hostiletest.WithStallAfter(10))...)
			dir := t.TempDir()
			d := newTest(t, Config{Dir: dir, Attempts: 2, StallTimeout: 100 * time.Millisecond})
			// Only a guard against a hang: the run must end long before.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := d.Run(ctx, []manifest.Entry{e})
			if ctx.Err() != nil {
				t.Fatalf("the run ended only when its context did (%v): a stalled body was waited for", err)
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			r := res[0]
			if r.Status != tt.wantStatus || (tt.wantErr != nil && !errors.Is(r.Err, tt.wantErr)) {
				t.Fatalf("Status = %s, Err = %v; want %s with %v", r.Status, r.Err, tt.wantStatus, tt.wantErr)
			}
			if tt.wantStatus == Downloaded {
				checkFile(t, filepath.Join(dir, "f.bin"), data)
			}
			if got := s.Requests(); got < 1 {
				t.Errorf("the hostile server got %d requests, want at least 1", got)
			}
		})
	}
}
