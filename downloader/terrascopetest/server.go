// Package terrascopetest provides a fake of VITO Terrascope's download
// service for tests, simulators and benchmarks, in the manner of
// net/http/httptest.
//
// The fake serves any path under /download/ with deterministic content
// computed from the path: a valid TIFF for names ending in .tif or .tiff,
// other names pseudo-random bytes. It answers as the real service does, with
// bearer-token checks, ETag and Last-Modified, and 206 answers to Range
// requests, and can inject the faults a download manager must survive:
// 503 and 429 answers, bodies cut short, HTML login pages, redirects,
// revoked tokens, latency and a bandwidth cap. Faults are drawn from a
// seeded source, so a sequential run is reproducible. With WithLandMask it
// has no file for the ocean tiles of a hand-made stand-in land mask, and it
// always serves a stand-in of the WorldCover grid file at GridURL.
//
// Files are named by their path after /download/, such as
// "WORLDCOVER/ESA_WORLDCOVER_10M_2020_V100/MAP/x/x.tif". The methods that
// take a name also accept the full URL path ("/download/WORLDCOVER/...")
// or the full URL (s.URL() + "/WORLDCOVER/...").
package terrascopetest

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Tokens decides which bearer tokens the server accepts. The fake Keycloak
// server satisfies it. Implementations must be safe for concurrent use.
type Tokens interface {
	// Valid reports whether accessToken is a current access token.
	Valid(accessToken string) bool
	// RevokeAccess makes every access token issued so far invalid.
	RevokeAccess()
}

// Stats counts what a Server has seen. Every counter is updated before the
// response it concerns is complete, so a client that has read a response
// sees it counted.
type Stats struct {
	// Requests is the number of requests received, on any path.
	Requests int64
	// ByStatus counts responses by status code.
	ByStatus map[int]int64
	// BytesServed is the number of response body bytes sent.
	BytesServed int64
	// AuthorizationSeen counts requests that carried an Authorization
	// header.
	AuthorizationSeen int64
	// EarlyRetries counts requests for a path that came sooner than the
	// Retry-After of a 429 the server gave for that path.
	EarlyRetries int64
	// RangeRequests counts requests that carried a Range header.
	RangeRequests int64
	// CutBodies counts responses whose body was cut short on purpose.
	CutBodies int64
	// Revocations counts calls to Tokens.RevokeAccess.
	Revocations int64
	// Held is the number of response bodies paused by Hold right now.
	Held int64
	// Connections counts the connections accepted.
	Connections int64
	// InFlight is the number of downloads being served now, and
	// MaxInFlight the most there were at once.
	InFlight, MaxInFlight int64
	// CapRejections counts downloads refused with 429 because WithMaxInFlight's
	// cap was reached.
	CapRejections int64
}

// A Server is a fake Terrascope download service listening on loopback.
type Server struct {
	cfg     config
	tokens  Tokens
	srv     *http.Server
	l       net.Listener
	served  chan struct{} // closed when Serve returns
	limiter *rate.Limiter
	burst   int
	rangeOn atomic.Bool
	blocks  blockCache
	ca      *CA // nil without TLS

	conns, inflight, peak, capRejections atomic.Int64

	requests, bytes, auth, early, ranges, cuts, revocations, downloads, held atomic.Int64
	status                                                                   [600]atomic.Int64

	// waiters are the conditions of WaitFor calls not met yet; nwaiters
	// counts them, so that updating a counter costs nothing without them.
	waitMu   sync.Mutex
	waiters  []waiter
	nwaiters atomic.Int32

	mu        sync.Mutex
	rng       *rand.Rand
	versions  map[string]int
	sums      map[[32]byte]string
	notBefore map[string]time.Time // earliest retry per name after a 429
	closed    bool
	active    sync.WaitGroup
	holdAt    int64         // Hold's n
	holdCh    chan struct{} // closed by Release; nil when not holding
}

// NewServer starts a Server on 127.0.0.1 on a free port, or on the listener
// given by WithListener. If tokens is nil every request is authorized.
// NewServer panics if it cannot listen, as httptest.NewServer does.
// Callers must Close the server.
func NewServer(tokens Tokens, opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		cfg:       cfg,
		tokens:    tokens,
		l:         cfg.listener,
		served:    make(chan struct{}),
		rng:       rand.New(rand.NewPCG(uint64(cfg.seed), 0x7465727261)),
		versions:  make(map[string]int),
		sums:      make(map[[32]byte]string),
		notBefore: make(map[string]time.Time),
	}
	s.rangeOn.Store(cfg.rangeOn)
	if cfg.bandwidth > 0 {
		s.burst = int(min(max(cfg.bandwidth/10, 1), 256<<10))
		s.limiter = rate.NewLimiter(rate.Limit(cfg.bandwidth), s.burst)
	}
	if s.l == nil {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(fmt.Sprintf("terrascopetest: listening on a loopback port: %v", err))
		}
		s.l = l
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: time.Minute,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.conns.Add(1)
				s.changed()
			}
		},
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			if cfg.connBW <= 0 {
				return ctx
			}
			return context.WithValue(ctx, connLimiterKey{}, rate.NewLimiter(rate.Limit(cfg.connBW), connBurst(cfg.connBW)))
		},
	}
	if cfg.tls {
		s.ca = cfg.ca
		if s.ca == nil {
			s.ca = mustCA()
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{s.ca.Leaf}, MinVersion: tls.VersionTLS12}
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetHTTP2(true)
		s.srv.Protocols = &p
	}
	go func() {
		defer close(s.served)
		if cfg.tls {
			s.srv.ServeTLS(s.l, "", "")
		} else {
			s.srv.Serve(s.l)
		}
	}()
	return s
}

// URL returns the base download URL, such as
// "http://127.0.0.1:PORT/download" (https with WithTLS), to which names are
// joined with "/".
func (s *Server) URL() string { return s.origin() + "/download" }

func (s *Server) origin() string {
	if s.ca != nil {
		return "https://" + s.Host()
	}
	return "http://" + s.Host()
}

// CA returns the authority that issued the server's certificate, or nil
// for a server without TLS.
func (s *Server) CA() *CA { return s.ca }

// Client returns a new client for the server: one that trusts its CA and
// tries HTTP/2 first with WithTLS, else a plain client. Like a browser, it
// multiplexes HTTP/2 requests onto one connection.
func (s *Server) Client() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if s.ca != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: s.ca.Pool}
		t.ForceAttemptHTTP2 = true
	}
	return &http.Client{Transport: t}
}

// GridURL returns the URL of the stand-in grid file, such as
// "http://127.0.0.1:PORT/grid/esa_worldcover_grid.geojson". The server
// serves it to anyone, without a token, as a public bucket would; it lists
// the tiles of the stand-in land mask whether or not WithLandMask is on.
func (s *Server) GridURL() string { return "http://" + s.Host() + GridPath }

// Host returns the host:port the server listens on.
func (s *Server) Host() string { return s.l.Addr().String() }

// Close stops the server, closes its connections, cutting any response in
// flight, and waits for the handlers to return. Closing twice is harmless.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.srv.Close()
	<-s.served
	s.active.Wait()
}

// Hold makes every file body (a 200 or 206 answer) pause once n bytes of
// it are sent and flushed, until Release, ReleaseHeld or the end of the
// request.
// Stats.Held counts the bodies paused, so that a test can act while
// transfers are known to be in flight with bytes received, and not merely
// after so many bytes were sent in all.
func (s *Server) Hold(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holdCh == nil {
		s.holdCh = make(chan struct{})
	}
	s.holdAt = n
}

// Release resumes the bodies paused by Hold and stops holding.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holdCh != nil {
		close(s.holdCh)
		s.holdCh = nil
	}
}

// ReleaseHeld resumes the bodies paused by Hold now and goes on holding: a
// body that reaches n bytes later pauses, as before. A body pauses only
// once, so that a test can let transfers through one wave at a time.
func (s *Server) ReleaseHeld() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holdCh != nil {
		close(s.holdCh)
		s.holdCh = make(chan struct{})
	}
}

// hold returns Hold's n and the channel Release closes, or a nil channel.
func (s *Server) hold() (int64, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holdAt, s.holdCh
}

// SetRange switches Range support on or off. Off, the server ignores Range
// and If-Range and sends no Accept-Ranges.
func (s *Server) SetRange(on bool) { s.rangeOn.Store(on) }

// SetVersion sets the version of a file: each version has its own content,
// ETag and Last-Modified. Files start at version 0.
func (s *Server) SetVersion(name string, v int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions[s.nameOf(name)] = v
}

// Bump moves a file to its next version and returns it, so a client
// resuming with If-Range gets the whole new file.
func (s *Server) Bump(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	name = s.nameOf(name)
	s.versions[name]++
	return s.versions[name]
}

// Content returns the current content of a file. It stays valid, and
// unchanged, after a new version is set.
func (s *Server) Content(name string) io.ReaderAt { return s.file(s.nameOf(name)) }

// Size returns the size of a file in bytes.
func (s *Server) Size(name string) int64 { return s.size(s.nameOf(name)) }

// ETag returns the current entity tag of a file, quoted.
func (s *Server) ETag(name string) string { return s.file(s.nameOf(name)).etag() }

// SHA256 returns the lower-case hex SHA-256 of the current content of a
// file. It reads the whole content once per version.
func (s *Server) SHA256(name string) string {
	f := s.file(s.nameOf(name))
	s.mu.Lock()
	sum, ok := s.sums[f.key]
	s.mu.Unlock()
	if ok {
		return sum
	}
	h := sha256.New()
	buf := make([]byte, 256<<10)
	io.CopyBuffer(h, io.NewSectionReader(f, 0, f.size), buf)
	sum = hex.EncodeToString(h.Sum(nil))
	s.mu.Lock()
	s.sums[f.key] = sum
	s.mu.Unlock()
	return sum
}

// A waiter is a WaitFor call waiting for its condition.
type waiter struct {
	cond func(Stats) bool
	ch   chan struct{}
}

// WaitFor returns a channel that is closed as soon as cond holds for the
// server's counters, so that a test can act in the middle of a run (after
// so many requests, or bytes) without polling. cond is called with
// the server's internal lock held: it must be quick and must not call the
// Server.
func (s *Server) WaitFor(cond func(Stats) bool) <-chan struct{} {
	ch := make(chan struct{})
	// Counted before the first look, so that an update racing with this
	// call sees a waiter and looks again.
	s.nwaiters.Add(1)
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	if cond(s.Stats()) {
		s.nwaiters.Add(-1)
		close(ch)
		return ch
	}
	s.waiters = append(s.waiters, waiter{cond, ch})
	return ch
}

// changed wakes the waiters whose condition the counters now meet. It is
// called after every counter update.
func (s *Server) changed() {
	if s.nwaiters.Load() == 0 {
		return
	}
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	st := s.Stats()
	kept := s.waiters[:0]
	for _, w := range s.waiters {
		if w.cond(st) {
			close(w.ch)
			s.nwaiters.Add(-1)
		} else {
			kept = append(kept, w)
		}
	}
	s.waiters = kept
}

// Stats returns a copy of the server's counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Requests:          s.requests.Load(),
		ByStatus:          make(map[int]int64),
		BytesServed:       s.bytes.Load(),
		AuthorizationSeen: s.auth.Load(),
		EarlyRetries:      s.early.Load(),
		RangeRequests:     s.ranges.Load(),
		CutBodies:         s.cuts.Load(),
		Revocations:       s.revocations.Load(),
		Held:              s.held.Load(),
		Connections:       s.conns.Load(),
		InFlight:          s.inflight.Load(),
		MaxInFlight:       s.peak.Load(),
		CapRejections:     s.capRejections.Load(),
	}
	for code := range s.status {
		if n := s.status[code].Load(); n > 0 {
			st.ByStatus[code] = n
		}
	}
	return st
}

// nameOf turns a name, URL path or URL into a name.
func (s *Server) nameOf(name string) string {
	name = strings.TrimPrefix(name, s.origin())
	if n, ok := strings.CutPrefix(name, "/download/"); ok {
		return n
	}
	return strings.TrimPrefix(name, "/")
}

// size is the size of a file, never negative.
func (s *Server) size(name string) int64 { return max(s.cfg.size(name), 0) }

// file returns the current version of a file.
func (s *Server) file(name string) *file {
	s.mu.Lock()
	v := s.versions[name]
	s.mu.Unlock()
	f, err := newFile(s.cfg.seed, name, v, s.size(name), &s.blocks)
	if err != nil {
		// newFile fails only for a TIFF size it has already checked.
		panic(err)
	}
	return f
}

// faults is one draw of the fault knobs for a request.
type faults struct {
	fail503, fail429, html, cut bool
	cutAt                       float64
}

func (s *Server) draw() faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	u503, u429, uHTML, uCut, at := s.rng.Float64(), s.rng.Float64(), s.rng.Float64(), s.rng.Float64(), s.rng.Float64()
	return faults{
		fail503: u503 < s.cfg.p503,
		fail429: u429 < s.cfg.p429,
		html:    uHTML < s.cfg.pHTML,
		cut:     uCut < s.cfg.pCut,
		cutAt:   at,
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.active.Add(1)
	s.mu.Unlock()
	defer s.active.Done()

	s.requests.Add(1)
	if r.Header.Get("Authorization") != "" {
		s.auth.Add(1)
	}
	if r.Header.Get("Range") != "" {
		s.ranges.Add(1)
	}
	s.changed()
	rw := &recorder{ResponseWriter: w, s: s, req: r, limit: -1}

	if s.cfg.latency > 0 {
		t := time.NewTimer(s.cfg.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if path.Clean(r.URL.Path) == GridPath {
		serveGrid(rw, r)
		return
	}
	// Like the service's front end, resolve dot segments before routing.
	name, ok := strings.CutPrefix(path.Clean(r.URL.Path), "/download/")
	if !ok || strings.HasSuffix(r.URL.Path, "/") {
		errorPage(rw, http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		rw.Header().Set("Allow", "GET, HEAD")
		errorPage(rw, http.StatusMethodNotAllowed)
		return
	}
	now := s.cfg.now()
	s.mu.Lock()
	if t, ok := s.notBefore[name]; ok && now.Before(t) {
		s.early.Add(1)
	}
	s.mu.Unlock()
	s.changed()

	if s.tokens != nil {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !s.tokens.Valid(token) {
			s.unauthorized(rw, r, ok)
			return
		}
		if s.cfg.revokeOwn {
			s.mu.Lock()
			revoke := s.rng.IntN(s.cfg.revokeEvery) == 0
			s.mu.Unlock()
			if revoke {
				s.revocations.Add(1)
				s.tokens.RevokeAccess()
				s.changed()
				s.unauthorized(rw, r, true)
				return
			}
		} else if n := s.downloads.Add(1); s.cfg.revokeEvery > 0 && n%int64(s.cfg.revokeEvery) == 0 {
			s.revocations.Add(1)
			s.tokens.RevokeAccess()
			s.changed()
		}
	}

	f := s.draw()
	switch {
	case f.fail503:
		errorPage(rw, http.StatusServiceUnavailable)
		return
	case f.fail429:
		secs := int64(math.Ceil(s.cfg.retryAfter.Seconds()))
		s.mu.Lock()
		s.notBefore[name] = now.Add(time.Duration(secs) * time.Second)
		s.mu.Unlock()
		rw.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		errorPage(rw, http.StatusTooManyRequests)
		return
	case f.html:
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw.Header().Set("Content-Length", strconv.Itoa(len(loginPage)))
		rw.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			io.WriteString(rw, loginPage)
		}
		return
	case s.cfg.redirectTo != "":
		http.Redirect(rw, r, strings.TrimSuffix(s.cfg.redirectTo, "/")+"/"+name, http.StatusFound)
		return
	case s.cfg.notFound != nil && s.cfg.notFound(name), s.cfg.landMask && ocean(name):
		errorPage(rw, http.StatusNotFound)
		return
	}

	if r.Method == http.MethodGet {
		if !s.admit() {
			s.capRejections.Add(1)
			if secs := int64(math.Ceil(s.cfg.capRetry.Seconds())); secs > 0 {
				rw.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
			}
			body := fmt.Sprintf("Max session number %d exceeded\n", s.cfg.maxInFlight)
			rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
			rw.Header().Set("Content-Length", strconv.Itoa(len(body)))
			rw.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(rw, body)
			return
		}
		var once sync.Once
		rw.release = func() { once.Do(func() { s.inflight.Add(-1); s.changed() }) }
		defer rw.release()
	}

	file := s.file(name)
	h := rw.Header()
	h.Set("Content-Type", file.contentType())
	if s.cfg.etag {
		h.Set("ETag", file.etag())
	}
	var modTime time.Time
	if s.cfg.lastMod {
		modTime = file.modTime()
	}
	if !s.rangeOn.Load() {
		r2 := *r
		r2.Header = r.Header.Clone()
		r2.Header.Del("Range")
		r2.Header.Del("If-Range")
		r = &r2
		rw.noRanges = true
	}
	if f.cut && r.Method == http.MethodGet {
		rw.cutAt = f.cutAt
		rw.armCut = true
	}
	http.ServeContent(rw, r, "", modTime, io.NewSectionReader(file, 0, file.size))
}

// admit counts a download in flight, unless WithMaxInFlight's cap is
// reached.
func (s *Server) admit() bool {
	for {
		n := s.inflight.Load()
		if s.cfg.maxInFlight > 0 && n >= int64(s.cfg.maxInFlight) {
			return false
		}
		if s.inflight.CompareAndSwap(n, n+1) {
			for p := s.peak.Load(); n+1 > p && !s.peak.CompareAndSwap(p, n+1); p = s.peak.Load() {
			}
			s.changed()
			return true
		}
	}
}

// unauthorized answers a download without a valid token: 401, or a
// redirect to the login page if WithLoginRedirect was given.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, hadToken bool) {
	if s.cfg.loginURL != "" {
		scheme := "http://"
		if r.TLS != nil {
			scheme = "https://"
		}
		back := scheme + r.Host + r.URL.RequestURI()
		q := url.Values{
			"client_id":     {"terrascope-download"},
			"redirect_uri":  {back},
			"response_type": {"code"},
			"scope":         {"openid"},
		}
		sep := "?"
		if strings.Contains(s.cfg.loginURL, "?") {
			sep = "&"
		}
		http.Redirect(w, r, s.cfg.loginURL+sep+q.Encode(), http.StatusFound)
		return
	}
	challenge := `Bearer realm="terrascope"`
	if hadToken {
		challenge += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	errorPage(w, http.StatusUnauthorized)
}

// errorPage answers with code and the short HTML page the service's nginx
// front end sends.
func errorPage(w http.ResponseWriter, code int) {
	text := http.StatusText(code)
	if code == http.StatusServiceUnavailable {
		text = "Service Temporarily Unavailable"
	}
	body := fmt.Sprintf("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", code, text, code, text)
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// loginPage is the page a single sign-on front end sends in place of a file
// when it wants the user to log in.
const loginPage = `<!DOCTYPE html>
<html class="login-pf">
<head>
    <meta charset="utf-8">
    <meta name="robots" content="noindex, nofollow">
    <title>Sign in to Terrascope</title>
</head>
<body>
<div id="kc-header"><div id="kc-header-wrapper">Terrascope</div></div>
<div id="kc-content">
  <h1 id="kc-page-title">Sign in to your account</h1>
  <form id="kc-form-login" action="/auth/realms/terrascope/login-actions/authenticate" method="post">
    <label for="username">Username or email</label>
    <input id="username" name="username" type="text" autofocus autocomplete="off">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="off">
    <input name="login" id="kc-login" type="submit" value="Sign In">
  </form>
</div>
</body>
</html>
`

// A recorder counts a response as it is written and applies the faults
// that act on the body: a cut and the bandwidth cap.
type recorder struct {
	http.ResponseWriter
	s           *Server
	req         *http.Request
	wroteHeader bool
	noRanges    bool    // drop Accept-Ranges
	armCut      bool    // cut a 200 or 206 body at cutAt of its length
	cutAt       float64 //
	limit       int64   // body bytes left before the cut, or -1
	code        int     // status sent
	sent        int64   // body bytes sent
	resumed     bool    // paused by Hold once, and resumed
	// release, if set, ends the download's count in flight; it is
	// called before the last byte of the body is written.
	release func()
	left    int64 // body bytes announced and not written yet, or -1
}

// Unwrap lets http.ResponseController reach the connection.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *recorder) WriteHeader(code int) {
	if w.wroteHeader {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.wroteHeader = true
	w.code = code
	if w.noRanges {
		w.Header().Del("Accept-Ranges")
	}
	if w.armCut && (code == http.StatusOK || code == http.StatusPartialContent) {
		if n, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64); err == nil {
			w.limit = int64(w.cutAt * float64(n))
			w.s.cuts.Add(1)
		}
	}
	w.left = -1
	if n, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64); err == nil {
		w.left = n
	}
	if code >= 0 && code < len(w.s.status) {
		w.s.status[code].Add(1)
	}
	w.s.changed()
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	written := 0
	for {
		chunk := p
		if w.s.limiter != nil && len(chunk) > w.s.burst {
			chunk = chunk[:w.s.burst]
		}
		if w.limit >= 0 && int64(len(chunk)) > w.limit {
			chunk = chunk[:w.limit]
		}
		if at, release := w.s.hold(); release != nil && !w.resumed && (w.code == http.StatusOK || w.code == http.StatusPartialContent) &&
			w.sent+int64(len(chunk)) > at {
			if w.sent >= at {
				if err := w.pause(release); err != nil {
					return written, err
				}
				w.resumed = true
				continue
			}
			chunk = chunk[:at-w.sent]
		}
		connLim, _ := w.req.Context().Value(connLimiterKey{}).(*rate.Limiter)
		if connLim != nil && len(chunk) > connLim.Burst() {
			chunk = chunk[:connLim.Burst()]
		}
		if w.s.limiter != nil && len(chunk) > 0 {
			if err := w.s.limiter.WaitN(w.req.Context(), len(chunk)); err != nil {
				return written, err
			}
		}
		if connLim != nil && len(chunk) > 0 {
			if err := connLim.WaitN(w.req.Context(), len(chunk)); err != nil {
				return written, err
			}
		}
		if w.release != nil && w.left >= 0 && int64(len(chunk)) >= w.left {
			w.release() // the client may start its next download on reading this
		}
		// Count before writing, so the count is in place by the time
		// the client has the bytes.
		w.s.bytes.Add(int64(len(chunk)))
		w.s.changed()
		n, err := w.ResponseWriter.Write(chunk)
		w.s.bytes.Add(int64(n - len(chunk)))
		w.sent += int64(n)
		if w.left >= 0 {
			w.left -= int64(n)
		}
		written += n
		p = p[n:]
		if (w.s.limiter != nil || connLim != nil) && err == nil {
			// Send each allowance at once, for a smooth stream.
			err = http.NewResponseController(w.ResponseWriter).Flush()
		}
		if w.limit >= 0 {
			w.limit -= int64(n)
			if w.limit == 0 {
				http.NewResponseController(w.ResponseWriter).Flush()
				panic(http.ErrAbortHandler)
			}
		}
		if err != nil || len(p) == 0 {
			return written, err
		}
	}
}

// pause flushes what was written and waits until release is closed or the
// request ends.
func (w *recorder) pause(release chan struct{}) error {
	if err := http.NewResponseController(w.ResponseWriter).Flush(); err != nil {
		return err
	}
	w.s.held.Add(1)
	w.s.changed()
	defer func() {
		w.s.held.Add(-1)
		w.s.changed()
	}()
	select {
	case <-release:
		return nil
	case <-w.req.Context().Done():
		return w.req.Context().Err()
	}
}

// copyBufs holds the buffers ReadFrom copies bodies through: larger than
// net/http's 32 KiB, so a fast client costs fewer system calls.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// ReadFrom copies a body through a large buffer.
func (w *recorder) ReadFrom(r io.Reader) (int64, error) {
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	return io.CopyBuffer(writerOnly{w}, r, *buf)
}

// writerOnly hides ReadFrom from io.CopyBuffer.
type writerOnly struct{ io.Writer }

// connLimiterKey is the context key of a connection's bandwidth limiter.
type connLimiterKey struct{}

// connBurst is the burst of a bandwidth limiter of bytesPerSec: a tenth of
// a second of data, at most 256 KiB.
func connBurst(bytesPerSec int64) int { return int(min(max(bytesPerSec/10, 1), 256<<10)) }
