package keycloaktest

import (
	"sync/atomic"
	"time"
)

// A Clock is a manual clock for tests, safe for concurrent use. Pass its
// Now method to WithClock and to the code under test, and move it with
// Advance.
type Clock struct {
	ns atomic.Int64
}

// NewClock returns a Clock showing start.
func NewClock(start time.Time) *Clock {
	c := &Clock{}
	c.ns.Store(start.UnixNano())
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
