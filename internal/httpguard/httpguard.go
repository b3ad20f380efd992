// Package httpguard wraps the transports of the HTTP clients wcdl builds so
// that no server can hold a request forever, at any stage of its answer,
// and no request tells a server the URL of another.
package httpguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStalled is the error of a request cut because the server sent
// nothing for the Transport's Stall: no response headers, or no byte of
// the body while it was being read.
var ErrStalled = errors.New("the transfer stalled")

// Transport is an http.RoundTripper that bounds every wait on the server
// and removes the Referer header.
//
// Every read of an answer has a deadline: the response headers must arrive
// within Stall of the request, and each Read of the body must return a byte
// within Stall, on every status and whoever reads it (the caller, the
// http.Client draining a redirect's body, a retry library draining an error
// body). A read past its deadline cuts the request (its connection is
// closed) and returns an error wrapping ErrStalled. Time between reads
// (while the reader writes to disk or waits for a rate limiter) is not
// counted.
//
// Referer is removed from every request: an http.Client following a
// redirect sets it to the previous URL, query included, and the query of a
// signed URL is a secret.
//
// Transport is safe for concurrent use. The caller's request is never
// changed.
type Transport struct {
	// Base makes the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Stall bounds each wait on the server; zero or negative means no
	// bound (Referer is still removed).
	Stall time.Duration
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if _, ok := req.Header["Referer"]; ok {
		r := *req
		r.Header = req.Header.Clone()
		r.Header.Del("Referer")
		req = &r
	}
	if t.Stall <= 0 {
		return base.RoundTrip(req)
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	g := &guard{d: t.Stall, cancel: cancel}
	g.timer = time.AfterFunc(t.Stall, g.fire)
	resp, err := base.RoundTrip(req.WithContext(ctx))
	if !g.timer.Stop() && g.fired.Load() && req.Context().Err() == nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, fmt.Errorf("%w: no response headers within %v", ErrStalled, t.Stall)
	}
	if err != nil {
		cancel(nil)
		return nil, err
	}
	resp.Body = &body{rc: resp.Body, g: g}
	return resp, nil
}

// guard cuts a request when its timer fires.
type guard struct {
	d      time.Duration
	cancel context.CancelCauseFunc
	timer  *time.Timer
	fired  atomic.Bool
}

func (g *guard) fire() {
	g.fired.Store(true)
	g.cancel(ErrStalled)
}

// body is a response body whose every Read has a deadline.
type body struct {
	rc io.ReadCloser
	g  *guard

	mu sync.Mutex // serializes Read, as io.Reader users expect anyway
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.g
	if g.fired.Load() {
		return 0, b.stalled()
	}
	g.timer.Reset(g.d)
	n, err := b.rc.Read(p)
	g.timer.Stop()
	if err != nil && g.fired.Load() {
		return n, b.stalled()
	}
	return n, err
}

func (b *body) stalled() error {
	return fmt.Errorf("%w: no byte received for %v", ErrStalled, b.g.d)
}

// Close closes the body and releases the request's context.
func (b *body) Close() error {
	err := b.rc.Close()
	b.g.timer.Stop()
	b.g.cancel(nil)
	return err
}
