package downloader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/wcdl/wcdl/auth"
)

// maxRedirects is the number of redirect hops a request may follow.
const maxRedirects = 5

// attemptKey is the context key of the per-file attempt counter.
type attemptKey struct{}

// attempts counts the HTTP attempts of one file against its budget. It is
// carried in the request context, so the shared retryablehttp client can
// charge each try to the file it belongs to. Only the goroutine running the
// request touches it.
type attempts struct {
	n      int // HTTP attempts so far
	budget int // attempts allowed in total
	// paced: the last answer was a 429 or 503 while other transfers
	// streamed; the retry waits for one of them to end (for a slot of the
	// run's concurrency) instead of a backoff.
	paced bool
	// dialed: a request of this file went as far as asking the transport
	// for a connection to the service, past the token (see tracedDial).
	dialed atomic.Bool
}

func withAttempts(ctx context.Context, a *attempts) context.Context {
	return context.WithValue(ctx, attemptKey{}, a)
}

// tracedDial marks a in ctx's requests once the transport asks for a
// connection to host (host:port): from then on the service may have seen
// the file's request. The auth transport gets the token before that, so a
// file that only waited for a token was never tried. A token request to
// the same host:port marks it too: the file then counts as tried.
func tracedDial(ctx context.Context, a *attempts, host string) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GetConn: func(hostPort string) {
		if hostPort == host {
			a.dialed.Store(true)
		}
	}})
}

// hostPort returns u's host with its port, as the transport dials it.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

func attemptsFrom(ctx context.Context) *attempts {
	a, _ := ctx.Value(attemptKey{}).(*attempts)
	return a
}

// newRetryClient wraps hc in a retryablehttp client that retries transport
// errors, 429 and 5xx (but 501) within each file's attempt budget and hands
// every final answer back to the caller.
func newRetryClient(hc *http.Client, cfg Config, now func() time.Time) *retryablehttp.Client {
	rc := &retryablehttp.Client{
		HTTPClient:   hc,
		RetryWaitMin: cfg.RetryWaitMin,
		RetryWaitMax: cfg.RetryMaxWait,
		RetryMax:     cfg.Attempts - 1,
		CheckRetry:   checkRetry,
		Backoff: func(min, max time.Duration, n int, resp *http.Response) time.Duration {
			return backoff(min, max, n, resp, now)
		},
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(_ retryablehttp.Logger, req *http.Request, _ int) {
			if a := attemptsFrom(req.Context()); a != nil {
				a.n++
			}
		},
	}
	if cfg.Logger != nil {
		rc.Logger = slogAdapter{cfg.Logger}
	}
	return rc
}

// checkRetry is the retry policy. Transport errors, 429 and 5xx other than
// 501 are retried while the file has attempts left; authentication failures,
// too many redirects and every other status are final. The context is checked
// before each retry.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		if isPermanentError(err) {
			return false, err
		}
	} else if !retryableStatus(resp.StatusCode) {
		return false, nil
	}
	if a := attemptsFrom(ctx); a != nil && a.n >= a.budget {
		return false, nil // budget spent: hand the last answer back
	}
	return true, nil
}

// isPermanentError reports transport errors that retrying cannot cure.
func isPermanentError(err error) bool {
	return errors.Is(err, auth.ErrLoginFailed) ||
		errors.Is(err, auth.ErrBadCredentials) ||
		errors.Is(err, auth.ErrBadTokenAnswer) ||
		errors.Is(err, auth.ErrTokenRefused) ||
		errors.Is(err, auth.ErrContainerRefused) ||
		errors.Is(err, auth.ErrInsecureTokenURL) ||
		errors.Is(err, ErrTooManyRedirects) ||
		errors.Is(err, ErrBadRedirect) ||
		auth.IsCertificateError(err) ||
		errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded)
}

// retryableStatus reports statuses worth another try: 429 and 5xx but 501.
// 401 (already handled by the auth transport), 403, 404, 416 and all other
// statuses are final.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests ||
		(code >= 500 && code != http.StatusNotImplemented)
}

// backoff returns the wait before retry n (0-based): the server's
// Retry-After on a 429 or 503 when it sends one; none for a 429 or 503
// without it that other transfers pace (attempts.paced); else min·2ⁿ with
// jitter, and never more than max.
func backoff(min, max time.Duration, n int, resp *http.Response, now func() time.Time) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), now()); ok {
			return capWait(d, max)
		}
		if resp.Request != nil {
			if a := attemptsFrom(resp.Request.Context()); a != nil && a.paced {
				return 0
			}
		}
	}
	d := max
	if n < 30 {
		if m := min << n; m > 0 && m < max {
			d = m
		}
	}
	// Jitter: a uniform wait in [d/2, d] keeps workers that failed together
	// from retrying together.
	if half := d / 2; half > 0 {
		d = half + rand.N(half+1)
	}
	return capWait(d, max)
}

func capWait(d, max time.Duration) time.Duration {
	if max > 0 && d > max {
		return max
	}
	return d
}

// retryAfter parses a Retry-After value: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		return min(time.Duration(min(s, int64(maxRetryAfter/time.Second)))*time.Second, maxRetryAfter), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}

// maxRetryAfter bounds a parsed Retry-After before RetryMaxWait caps it, so
// that far-future dates cannot overflow.
const maxRetryAfter = 24 * time.Hour

// slogAdapter lets retryablehttp log through a slog.Logger, at debug level:
// a failed attempt that is retried is not news, and how each file ended is
// reported in its Result.
type slogAdapter struct{ l *slog.Logger }

var _ retryablehttp.LeveledLogger = slogAdapter{}

func (a slogAdapter) Error(msg string, kv ...any) { a.l.Debug(msg, redactKV(kv)...) }
func (a slogAdapter) Info(msg string, kv ...any)  { a.l.Debug(msg, redactKV(kv)...) }
func (a slogAdapter) Debug(msg string, kv ...any) { a.l.Debug(msg, redactKV(kv)...) }
func (a slogAdapter) Warn(msg string, kv ...any)  { a.l.Debug(msg, redactKV(kv)...) }

// redactKV redacts the URLs in the values retryablehttp logs: it logs the
// request URL whole (query included), and errors that quote it.
func redactKV(kv []any) []any {
	out := make([]any, len(kv))
	for i, v := range kv {
		switch v := v.(type) {
		case string:
			out[i] = RedactText(v)
		case error:
			out[i] = redactErr(v).Error()
		case fmt.Stringer:
			out[i] = RedactText(v.String())
		default:
			out[i] = v
		}
	}
	return out
}
