package downloader

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// TestConcurrencySettlesUnderCap runs -w 16 against a service that serves 4
// downloads at once and refuses more with 429: every file must arrive, the
// service must refuse of the order of the workers (not of the files), and
// the limit must settle at the cap.
func TestConcurrencySettlesUnderCap(t *testing.T) {
	const workers, files, cap = 16, 24, 4
	tests := []struct {
		name       string
		tls        bool
		retryAfter time.Duration
	}{
		{name: "429 without Retry-After"},
		{name: "429 with Retry-After", retryAfter: time.Second},
		{name: "over TLS", tls: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Small socket buffers on both sides, and the first wave of
			// answers held until all have come, make the first downloads
			// still in flight when the others arrive: the service
			// refuses the first wave beyond its cap, every run.
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			opts := []terrascopetest.Option{terrascopetest.WithFileSize(2 << 20),
				terrascopetest.WithMaxInFlight(cap, tt.retryAfter), terrascopetest.WithListener(smallBufListener{l})}
			if tt.tls {
				opts = append(opts, terrascopetest.WithTLS(nil))
			}
			s := terrascopetest.NewServer(nil, opts...)
			t.Cleanup(s.Close)
			var tc *tls.Config
			if tt.tls {
				tc = &tls.Config{RootCAs: s.CA().Pool}
			}
			tr := NewTransport(workers, tc)
			dial := tr.DialContext
			tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dial(ctx, network, addr)
				if err == nil {
					c.(*net.TCPConn).SetReadBuffer(smallBuf)
				}
				return c, err
			}
			d := newTest(t, Config{Workers: workers, Client: &http.Client{Transport: newBarrier(tr, workers)}})
			// newTest caps waits at 5ms: Retry-After is not slept.
			for _, r := range run(t, d, tileEntries(s, files)...) {
				if r.Status != Downloaded {
					t.Errorf("%s: %s (%v)", r.Entry.Name, r.Status, r.Err)
				}
			}
			st, p := s.Stats(), d.Progress()
			if st.MaxInFlight > cap {
				t.Errorf("the service served %d downloads at once, want at most %d", st.MaxInFlight, cap)
			}
			// The first wave is refused beyond the cap (12); after that,
			// a few probes.
			if st.CapRejections < workers-cap {
				t.Errorf("%d answers 429, want the first wave's %d at least", st.CapRejections, workers-cap)
			}
			if max := int64(2 * workers); st.CapRejections > max {
				t.Errorf("%d answers 429, want at most %d", st.CapRejections, max)
			}
			if p.Throttled != st.CapRejections {
				t.Errorf("Progress.Throttled = %d, want the service's %d", p.Throttled, st.CapRejections)
			}
			if p.ConcurrencyLowest > cap || p.ConcurrencyLowest < 1 || p.Concurrency > cap+1 {
				t.Errorf("Progress concurrency now %d, lowest %d; want it to settle near %d", p.Concurrency, p.ConcurrencyLowest, cap)
			}
			t.Logf("429s %d, concurrency %d (lowest %d)", st.CapRejections, p.Concurrency, p.ConcurrencyLowest)
		})
	}
}

// smallBuf is the socket buffer size that keeps a 2 MiB body from fitting
// in the buffers of a loopback connection.
const smallBuf = 64 << 10

// smallBufListener gives accepted connections small send buffers.
type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		c.(*net.TCPConn).SetWriteBuffer(smallBuf)
	}
	return c, err
}

func TestConcurrencyLimit(t *testing.T) {
	ctx := context.Background()
	acquire := func(c *concurrency, n int) []*slot {
		t.Helper()
		var out []*slot
		for range n {
			s, err := c.acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	limit := func(c *concurrency) int { l, _, _ := c.stats(); return l }

	t.Run("lowered to what streams, once per round", func(t *testing.T) {
		var changes []string
		c := newConcurrency(16, func(from, to int, why string) { changes = append(changes, fmt.Sprint(from, "->", to)) })
		slots := acquire(c, 16)
		for _, s := range slots[:4] {
			s.ok()
		}
		for _, s := range slots[4:] {
			s.overloaded("429 Too Many Requests", 0)
		}
		if got := limit(c); got != 4 {
			t.Errorf("limit %d after 12 refusals with 4 streaming, want 4", got)
		}
		if len(changes) != 1 {
			t.Errorf("changes %v, want one lowering for one round", changes)
		}
		if _, _, th := c.stats(); th != 12 {
			t.Errorf("throttled %d, want 12", th)
		}
	})
	t.Run("session count named by the service", func(t *testing.T) {
		c := newConcurrency(8, nil)
		slots := acquire(c, 8)
		slots[0].overloaded("429", 3)
		if got := limit(c); got != 3 {
			t.Errorf("limit %d, want the 3 sessions named", got)
		}
	})
	t.Run("halved when nothing tells", func(t *testing.T) {
		c := newConcurrency(8, nil)
		for _, want := range []int{4, 2, 1, 1} {
			s := acquire(c, 1)[0] // a new round each time
			s.overloaded("503", 0)
			s.release(false)
			if got := limit(c); got != want {
				t.Errorf("limit %d, want %d", got, want)
			}
		}
		if got := limit(c); got != 1 {
			t.Errorf("limit %d after three lowerings, want 1 (never 0)", got)
		}
	})
	t.Run("grows back, slowly past a refused level, never above max", func(t *testing.T) {
		c := newConcurrency(4, nil)
		slots := acquire(c, 4)
		slots[0].ok()
		slots[1].ok()
		slots[2].overloaded("429", 0) // 2 streaming: limit 2, level 4 refused
		if got := limit(c); got != 2 {
			t.Fatalf("limit %d, want 2", got)
		}
		slots[2].release(false)
		slots[3].release(false)
		slots[0].release(true)
		if got := limit(c); got != 2 {
			t.Fatalf("limit %d after 1 success at 2, want 2", got)
		}
		slots[1].release(true)
		if got := limit(c); got != 3 {
			t.Fatalf("limit %d after 2 successes at 2, want 3", got)
		}
		succeed := func(n int) {
			for range n {
				s := acquire(c, 1)[0]
				s.ok()
				s.release(true)
			}
		}
		succeed(3*probeFactor - 1)
		if got := limit(c); got != 3 {
			t.Fatalf("limit %d, want 3 until %d successes probe the refused level", got, 3*probeFactor)
		}
		succeed(1)
		if got := limit(c); got != 4 {
			t.Fatalf("limit %d, want 4", got)
		}
		succeed(100)
		if got := limit(c); got != 4 {
			t.Errorf("limit %d, want never above the 4 workers", got)
		}
	})
	t.Run("first come, first served; cancelled waiters leave", func(t *testing.T) {
		c := newConcurrency(1, nil)
		held := acquire(c, 1)[0]
		queued := make(chan struct{}, 1)
		c.onWait = func() { queued <- struct{}{} }
		cctx, cancel := context.WithCancel(ctx)
		gone := make(chan error)
		go func() { _, err := c.acquire(cctx); gone <- err }()
		<-queued
		got := make(chan int, 2)
		for i := range 2 { // each waiter is queued before the next starts
			go func() { s, _ := c.acquire(ctx); got <- i; s.release(true) }()
			<-queued
		}
		cancel()
		if err := <-gone; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled waiter: %v", err)
		}
		held.release(true)
		if a, b := <-got, <-got; a != 0 || b != 1 {
			t.Errorf("served %d then %d, want 0 then 1", a, b)
		}
	})
}

func TestSessionCap(t *testing.T) {
	for body, want := range map[string]int{
		"Max session number 4 exceeded":                 4,
		`{"detail":"Max session number 12 exceeded"}`:   12,
		"maximum session number 3 exceeded\n":           3,
		"<html><h1>429 Too Many Requests</h1></html>":   0,
		"Max session number 99999999999999999 exceeded": 0,
		"": 0,
	} {
		if got := sessionCap([]byte(body)); got != want {
			t.Errorf("sessionCap(%q) = %d, want %d", body, got, want)
		}
	}
}

// TestThrottleReadsSessionCount answers the first request with Copernicus'
// 429 and its session count, or a bare 503: the limit drops to that count
// (to half without one), and the file arrives on the retry.
func TestThrottleReadsSessionCount(t *testing.T) {
	for _, tt := range []struct {
		name       string
		code       int
		body       string
		wantLowest int64
	}{
		{name: "429 naming 2 sessions", code: http.StatusTooManyRequests, body: `{"detail":"Max session number 2 exceeded"}`, wantLowest: 2},
		{name: "503 naming nothing: halved", code: http.StatusServiceUnavailable, body: "<html>busy</html>", wantLowest: 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := content(64<<10, 9)
			s := newFakeService(t)
			e := entry(s.add("/f.bin", &fakeFile{data: data, reply: func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n == 1 {
					w.WriteHeader(tt.code)
					io.WriteString(w, tt.body)
					return true
				}
				return false
			}}), "f.bin")
			d := newTest(t, Config{Workers: 8})
			r := run(t, d, e)[0]
			if r.Status != Downloaded || r.Attempts != 2 {
				t.Fatalf("got %s after %d attempts (%v), want downloaded after 2", r.Status, r.Attempts, r.Err)
			}
			checkFile(t, r.Path, data)
			if p := d.Progress(); p.ConcurrencyLowest != tt.wantLowest || p.Throttled != 1 {
				t.Errorf("lowest concurrency %d, throttled %d; want %d, 1", p.ConcurrencyLowest, p.Throttled, tt.wantLowest)
			}
		})
	}
}
