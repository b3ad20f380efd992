package terrascopetest

import (
	"net"
	"time"
)

// DefaultFileSize is the size of every file unless WithFileSize or
// WithSizeFunc says otherwise.
const DefaultFileSize = 2 << 20

// An Option configures a Server.
type Option func(*config)

type config struct {
	listener    net.Listener
	size        func(name string) int64
	rangeOn     bool
	etag        bool
	lastMod     bool
	seed        int64
	p503        float64
	p429        float64
	retryAfter  time.Duration
	pCut        float64
	pHTML       float64
	notFound    func(name string) bool
	landMask    bool
	loginURL    string
	redirectTo  string
	bandwidth   int64
	revokeEvery int
	revokeOwn   bool // the revoking download is refused too
	latency     time.Duration
	now         func() time.Time
	tls         bool
	ca          *CA
	connBW      int64
	maxInFlight int
	capRetry    time.Duration
}

func defaultConfig() config {
	return config{
		size:    func(string) int64 { return DefaultFileSize },
		rangeOn: true,
		etag:    true,
		lastMod: true,
		now:     time.Now,
	}
}

// WithListener makes the server accept connections on l instead of a new
// listener on 127.0.0.1:0. The server closes l when it is closed.
func WithListener(l net.Listener) Option {
	return func(c *config) { c.listener = l }
}

// WithFileSize sets the size of every file in bytes. A .tif file gets TIFF
// content only if its size is between tiff.MinSize and tiff.MaxSize;
// otherwise it gets pseudo-random bytes like any other name.
func WithFileSize(n int64) Option {
	return func(c *config) { c.size = func(string) int64 { return n } }
}

// WithSizeFunc sets the size of each file from its name, the path after
// /download/. It must be deterministic and safe for concurrent use.
func WithSizeFunc(size func(name string) int64) Option {
	return func(c *config) { c.size = size }
}

// WithRange sets whether the server honours Range requests; it does by
// default. SetRange changes it at run time.
func WithRange(on bool) Option {
	return func(c *config) { c.rangeOn = on }
}

// WithETag sets whether responses carry an ETag; they do by default.
func WithETag(on bool) Option {
	return func(c *config) { c.etag = on }
}

// WithLastModified sets whether responses carry Last-Modified; they do by
// default.
func WithLastModified(on bool) Option {
	return func(c *config) { c.lastMod = on }
}

// WithSeed sets the seed of the file contents and of the fault draws.
func WithSeed(seed int64) Option {
	return func(c *config) { c.seed = seed }
}

// WithFail503 makes each authorized download fail with 503 Service
// Unavailable with probability p.
func WithFail503(p float64) Option {
	return func(c *config) { c.p503 = p }
}

// WithFail429 makes each authorized download fail with 429 Too Many
// Requests with probability p, with a Retry-After of retryAfter rounded up
// to whole seconds. The server remembers, per path, when a retry is allowed
// and counts requests that come sooner in Stats.EarlyRetries.
func WithFail429(p float64, retryAfter time.Duration) Option {
	return func(c *config) { c.p429, c.retryAfter = p, retryAfter }
}

// WithCutBody makes each GET answered with 200 or 206 stop, with
// probability p, after a random fraction of the body announced by its
// Content-Length, and abort the connection: the client sees an unexpected
// EOF.
func WithCutBody(p float64) Option {
	return func(c *config) { c.pCut = p }
}

// WithHTML makes each authorized download answer, with probability p, 200
// with an HTML login page instead of the file, as a single sign-on proxy
// does when it wants the user to log in again.
func WithHTML(p float64) Option {
	return func(c *config) { c.pHTML = p }
}

// WithNotFound makes the server answer 404 for the names notFound reports.
func WithNotFound(notFound func(name string) bool) Option {
	return func(c *config) { c.notFound = notFound }
}

// WithLoginRedirect makes a download without a valid token answer 302 to
// loginURL, with client_id and redirect_uri parameters, instead of 401.
func WithLoginRedirect(loginURL string) Option {
	return func(c *config) { c.loginURL = loginURL }
}

// WithRedirectTo makes every authorized download answer 302 to the same
// name under baseURL, such as the URL of another Server.
func WithRedirectTo(baseURL string) Option {
	return func(c *config) { c.redirectTo = baseURL }
}

// WithBandwidth caps the bytes per second the whole server sends in
// response bodies.
func WithBandwidth(bytesPerSec int64) Option {
	return func(c *config) { c.bandwidth = bytesPerSec }
}

// WithRevokeEvery makes the server revoke every token, by calling
// Tokens.RevokeAccess, on every n-th authorized download, after authorizing
// it: the n-th download succeeds and the next needs a new token.
// It has no effect on a server without Tokens.
func WithRevokeEvery(n int) Option {
	return func(c *config) { c.revokeEvery = n }
}

// WithRevokeRefusing makes each authorized download revoke every token, by
// calling Tokens.RevokeAccess, with probability 1/n drawn from the seeded
// source, and be refused itself, as by a service that revokes a token it
// suspects: the token was valid when the download arrived, and the
// download is answered as one without a valid token (401, or the redirect
// of WithLoginRedirect). It has no effect on a server without Tokens.
func WithRevokeRefusing(n int) Option {
	return func(c *config) { c.revokeEvery, c.revokeOwn = n, true }
}

// WithLatency delays every response by d.
func WithLatency(d time.Duration) Option {
	return func(c *config) { c.latency = d }
}

// WithClock sets the clock the server uses for Retry-After bookkeeping;
// time.Now by default.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithLandMask makes the server answer 404 for every WorldCover product of
// a tile that the stand-in land mask (see IsLand) does not have, as the real
// service does for ocean cells. It is off by default, so that tests may use
// any tile; the simulators turn it on.
func WithLandMask(on bool) Option {
	return func(c *config) { c.landMask = on }
}

// WithTLS makes the server speak TLS, offering HTTP/2 and HTTP/1.1, with a
// certificate issued by ca; nil makes a throwaway CA. Server.CA returns it
// and Server.Client returns a client that trusts it.
func WithTLS(ca *CA) Option {
	return func(c *config) { c.tls, c.ca = true, ca }
}

// WithConnBandwidth caps the bytes per second each connection sends in
// response bodies, as a long link bounds each TCP connection. Over HTTP/2
// the streams of a connection share its cap.
func WithConnBandwidth(bytesPerSec int64) Option {
	return func(c *config) { c.connBW = bytesPerSec }
}

// WithMaxInFlight makes the server serve at most n downloads at once, as
// services that count sessions per user do: a download beyond the cap gets
// 429 Too Many Requests with the body "Max session number n exceeded", and
// a Retry-After of retryAfter rounded up to whole seconds unless it is 0.
// A download stops counting as soon as its last byte is handed to the
// connection, so a client that has read a whole body is never refused for
// that body's sake.
func WithMaxInFlight(n int, retryAfter time.Duration) Option {
	return func(c *config) { c.maxInFlight, c.capRetry = n, retryAfter }
}
