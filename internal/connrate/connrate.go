// Package connrate paces the bytes a test server sends on each connection,
// as a long link bounds each TCP connection, for the simulator's
// --simulate-rate.
package connrate

import (
	"context"
	"net"
	"net/http"

	"golang.org/x/time/rate"
)

type limiterKey struct{}

// ConnContext returns an http.Server ConnContext that gives each new
// connection its own allowance of bytesPerSec; nil for 0 or less (no cap).
func ConnContext(bytesPerSec int64) func(context.Context, net.Conn) context.Context {
	if bytesPerSec <= 0 {
		return nil
	}
	burst := int(min(max(bytesPerSec/10, 1), 256<<10))
	return func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, limiterKey{}, rate.NewLimiter(rate.Limit(bytesPerSec), burst))
	}
}

// Writer returns w paced by the allowance of r's connection, or w itself
// when the connection has none.
func Writer(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	lim, ok := r.Context().Value(limiterKey{}).(*rate.Limiter)
	if !ok {
		return w
	}
	return &paced{ResponseWriter: w, lim: lim, ctx: r.Context()}
}

// paced sends at most its limiter's burst at a time, each as soon as the
// limiter allows it.
type paced struct {
	http.ResponseWriter
	lim *rate.Limiter
	ctx context.Context // the request's, which ends with it
}

func (p *paced) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		chunk := b[:min(len(b), p.lim.Burst())]
		if err := p.lim.WaitN(p.ctx, len(chunk)); err != nil {
			return written, err
		}
		n, err := p.ResponseWriter.Write(chunk)
		written += n
		if err != nil {
			return written, err
		}
		if err := http.NewResponseController(p.ResponseWriter).Flush(); err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (p *paced) Unwrap() http.ResponseWriter { return p.ResponseWriter }
