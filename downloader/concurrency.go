package downloader

import (
	"container/list"
	"context"
	"sync"
)

// concurrency decides how many transfers may be in flight: at most the
// number of workers, and fewer while the service says it is overloaded.
// Every HTTP request of a transfer asks it for a slot first.
//
// The scheme is additive increase, multiplicative decrease, shaped for
// services that count sessions per user. A 429 or 503 lowers the limit to
// the number of transfers the service is streaming at that moment (its
// capacity, as well as it can be seen), to the count a "Max session number
// N exceeded" message names, or to half when neither tells; one lowering
// per round, so that the refusals of requests sent together count once. A
// transfer that ends well counts towards growth: after as many successes
// as the limit, the limit grows by one, and, to probe a level that was
// refused, only after four times as many. Slots go to waiters first come,
// first served, so that one file is not refused again and again while
// others wait.
//
// A concurrency is safe for concurrent use.
type concurrency struct {
	mu        sync.Mutex
	max       int        // never more transfers than this (the workers)
	limit     int        // transfers allowed in flight now
	inflight  int        // slots held
	streaming int        // held slots whose answer was a success
	round     int        // incremented at every lowering
	successes int        // transfers that ended well since the limit last changed
	refused   int        // the limit at the last lowering; probing it is slow
	waiters   *list.List // of chan struct{}, FIFO

	lowest    int   // the lowest limit of the run
	throttled int64 // 429 and 503 answers seen
	onChange  func(from, to int, why string)
	onWait    func() // if set (by tests), called when a request starts to wait
}

// probeFactor is how many more successes it takes to grow to a level that
// was refused before.
const probeFactor = 4

func newConcurrency(max int, onChange func(from, to int, why string)) *concurrency {
	return &concurrency{max: max, limit: max, lowest: max, refused: max + 1, waiters: list.New(), onChange: onChange}
}

// A slot is one request's permission to be in flight.
type slot struct {
	c         *concurrency
	round     int
	streaming bool
	released  bool
}

// acquire waits for a slot, first come, first served.
func (c *concurrency) acquire(ctx context.Context) (*slot, error) {
	c.mu.Lock()
	if c.inflight < c.limit && c.waiters.Len() == 0 {
		c.inflight++
		s := &slot{c: c, round: c.round}
		c.mu.Unlock()
		return s, nil
	}
	ready := make(chan struct{})
	el := c.waiters.PushBack(ready)
	c.mu.Unlock()
	if c.onWait != nil {
		c.onWait()
	}
	select {
	case <-ready: // handed over by wake, inflight already counted
		c.mu.Lock()
		s := &slot{c: c, round: c.round}
		c.mu.Unlock()
		return s, nil
	case <-ctx.Done():
		c.mu.Lock()
		defer c.mu.Unlock()
		select {
		case <-ready: // handed over as ctx ended: give it on
			c.inflight--
			c.wake()
		default:
			c.waiters.Remove(el)
		}
		return nil, ctx.Err()
	}
}

// wake hands free slots to the first waiters. c.mu must be held.
func (c *concurrency) wake() {
	for c.inflight < c.limit && c.waiters.Len() > 0 {
		ready := c.waiters.Remove(c.waiters.Front()).(chan struct{})
		c.inflight++
		close(ready)
	}
}

// ok records that the slot's answer is a success: its transfer streams.
func (s *slot) ok() {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if !s.streaming && !s.released {
		s.streaming = true
		c.streaming++
	}
}

// overloaded records a 429 or 503 answer; sessions is the count a "Max
// session number N exceeded" message names, or 0. It reports whether other
// transfers are streaming: their ends, which free slots, then pace the
// retry, and no backoff is needed on top.
func (s *slot) overloaded(status string, sessions int) (paced bool) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.throttled++
	defer func() { paced = c.streaming > 0 }()
	if s.round != c.round {
		return // sent before the last lowering, which took it into account
	}
	to := c.limit / 2
	switch {
	case sessions > 0 && sessions < c.limit:
		to = sessions
	case c.streaming > 0 && c.streaming < c.limit:
		to = c.streaming
	}
	to = max(to, 1)
	c.round++
	c.refused = c.limit
	c.set(to, status)
	return
}

// release gives the slot back; success says the transfer ended well.
func (s *slot) release(success bool) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.released {
		return
	}
	s.released = true
	c.inflight--
	if s.streaming {
		c.streaming--
	}
	if success && c.limit < c.max {
		c.successes++
		need := c.limit
		if c.limit+1 >= c.refused {
			need *= probeFactor
		}
		if c.successes >= need {
			c.set(c.limit+1, "transfers succeed")
		}
	}
	c.wake()
}

// set changes the limit. c.mu must be held.
func (c *concurrency) set(to int, why string) {
	from := c.limit
	c.limit, c.successes = to, 0
	if to >= c.refused {
		c.refused = c.max + 1 // the level refused before holds now
	}
	c.lowest = min(c.lowest, to)
	if c.onChange != nil && from != to {
		c.onChange(from, to, why)
	}
}

// stats returns the limit now, the lowest it went, and the 429 and 503
// answers seen.
func (c *concurrency) stats() (limit, lowest int, throttled int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limit, c.lowest, c.throttled
}

// resetStats starts the lowest limit and the count of 429 and 503 answers
// afresh, for a new run; the limit itself carries over.
func (c *concurrency) resetStats() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lowest, c.throttled = c.limit, 0
}
