package downloader

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// TestConcurrencySettlesUnderCap runs -w 16 against a service that serves 4
// downloads at once and refuses more with 429 "Max session number 4
// exceeded". The service holds every body after its first bytes, so the
// test decides which transfers overlap, and the limiter's samples do not
// depend on the scheduler:
//
//   - the first wave of 16 gets 4 answers and 12 refusals: the limit drops
//     to 4, once;
//   - the test lets those 4 end: 4 successes raise the limit to 5, and of
//     the 5 requests sent then, the service holds 4 and refuses 1: the
//     limit drops to 4 again;
//   - the rest runs freely. A refused level is probed only after four
//     times as many successes, so the limit never goes above 5 again.
//
// Every file must arrive, and the service must refuse of the order of the
// workers, not of the files.
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
			opts := []terrascopetest.Option{terrascopetest.WithFileSize(256 << 10),
				terrascopetest.WithMaxInFlight(cap, tt.retryAfter)}
			if tt.tls {
				opts = append(opts, terrascopetest.WithTLS(nil))
			}
			s := terrascopetest.NewServer(nil, opts...)
			t.Cleanup(s.Close)
			s.Hold(16 << 10)
			var tc *tls.Config
			if tt.tls {
				tc = &tls.Config{RootCAs: s.CA().Pool}
			}
			// The barrier keeps the first wave's answers from the limiter
			// until all 16 have come: all 16 reach the service.
			d := newTest(t, Config{Workers: workers, Client: &http.Client{Transport: newBarrier(NewTransport(workers, tc), workers)}})
			// A change of the limit needs a success or a refusal: fewer
			// than files+2*workers in a run that keeps to its bounds. The
			// limiter calls onChange with its lock held: never block it.
			changes := make(chan limitChange, files+2*workers)
			var overflow atomic.Bool
			logChange := d.conc.onChange
			d.conc.onChange = func(from, to int, why string) {
				logChange(from, to, why)
				select {
				case changes <- limitChange{from, to}:
				default:
					overflow.Store(true)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			type outcome struct {
				res []Result
				err error
			}
			done := make(chan outcome, 1)
			go func() {
				res, err := d.Run(ctx, tileEntries(s, files))
				done <- outcome{res, err}
			}()
			var out *outcome
			t.Cleanup(func() { // before t.TempDir's cleanup: the run ends first
				cancel()
				s.Release()
				if out == nil {
					<-done
				}
			})
			var seen []limitChange
			// next takes the next change of the limit and fails if it is
			// not want, or if the run ends, the service refuses past
			// bounds, or stuck holds first. stuck is a state of the
			// service that the run reaches only after want.
			next := func(want limitChange, stuck func(terrascopetest.Stats) bool) {
				t.Helper()
				take := func(c limitChange) {
					t.Helper()
					seen = append(seen, c)
					if c != want {
						t.Fatalf("limit changes %v, want %v next", seen, want)
					}
				}
				select {
				case c := <-changes:
					take(c)
				case o := <-done:
					out = &o
					t.Fatalf("the run ended (%v) with limit changes %v, want %v next", o.err, seen, want)
				case <-s.WaitFor(func(st terrascopetest.Stats) bool { return st.CapRejections > 2*workers || stuck(st) }):
					select {
					case c := <-changes: // came first, and both were ready
						take(c)
					default:
						st := s.Stats()
						t.Fatalf("%d answers 429, %d bodies held, %d answers 200, with limit changes %v; want %v first",
							st.CapRejections, st.Held, st.ByStatus[http.StatusOK], seen, want)
					}
				}
			}
			waitFor := func(what string, cond func(terrascopetest.Stats) bool) {
				t.Helper()
				select {
				case <-s.WaitFor(cond):
				case o := <-done:
					out = &o
					t.Fatalf("the run ended (%v) before %s; limit changes %v", o.err, what, seen)
				}
			}

			// The first wave: 4 held, 12 refused, one lowering.
			never := func(terrascopetest.Stats) bool { return false }
			next(limitChange{workers, cap}, never)
			waitFor("the first wave's 4 held", func(st terrascopetest.Stats) bool {
				return st.Held == cap && st.CapRejections == workers-cap
			})
			// The 4 successes raise the limit by one, and the service
			// refuses the one request over its cap.
			s.ReleaseHeld()
			secondWave := func(st terrascopetest.Stats) bool {
				return st.Held == cap && st.ByStatus[http.StatusOK] == 2*cap
			}
			// The fourth success raises the limit before it lets the
			// last of the second wave go.
			next(limitChange{cap, cap + 1}, secondWave)
			next(limitChange{cap + 1, cap}, never)
			waitFor("the second wave's 4 held", secondWave)
			s.Release()
			o := <-done
			out = &o
			if o.err != nil {
				t.Fatalf("Run: %v", o.err)
			}
			for _, r := range o.res {
				if r.Status != Downloaded {
					t.Errorf("%s: %s (%v)", r.Entry.Name, r.Status, r.Err)
				}
			}
			close(changes)
			if overflow.Load() {
				t.Errorf("more than %d changes of the limit", files+2*workers)
			}
			for c := range changes {
				seen = append(seen, c)
				if c.to < cap || c.to > cap+1 {
					t.Errorf("limit changes %v, want every change after the second wave between %d and %d", seen, cap, cap+1)
				}
			}
			st, p := s.Stats(), d.Progress()
			if st.MaxInFlight > cap {
				t.Errorf("the service served %d downloads at once, want at most %d", st.MaxInFlight, cap)
			}
			if min, max := int64(workers-cap+1), int64(2*workers); st.CapRejections < min || st.CapRejections > max {
				t.Errorf("%d answers 429, want %d to %d", st.CapRejections, min, max)
			}
			if p.Throttled != st.CapRejections {
				t.Errorf("Progress.Throttled = %d, want the service's %d", p.Throttled, st.CapRejections)
			}
			if p.ConcurrencyLowest != cap || p.Concurrency < cap || p.Concurrency > cap+1 {
				t.Errorf("Progress concurrency now %d, lowest %d; want lowest %d, now %d or %d", p.Concurrency, p.ConcurrencyLowest, cap, cap, cap+1)
			}
			t.Logf("429s %d, limit changes %v, requests %d %v", st.CapRejections, seen, st.Requests, st.ByStatus)
		})
	}
}

// A limitChange is one change of a run's concurrency limit.
type limitChange struct{ from, to int }

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
