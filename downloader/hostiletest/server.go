// Package hostiletest provides an HTTP server that misbehaves as a broken or
// hostile download service would, one option per misbehaviour, for testing
// that a client keeps nothing it did not ask for.
package hostiletest

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A Server serves one file, at every path, and misbehaves as its options
// say. Without options it is a well-behaved server: 200 with
// Content-Length, strong ETag and Last-Modified, and 206 for "bytes=N-".
type Server struct {
	*httptest.Server
	cfg  config
	quit chan struct{}
	once sync.Once

	requests atomic.Int64
	mu       sync.Mutex
	seen     []http.Header
	uris     []string
}

type config struct {
	data         []byte
	etag         string
	lastModified string
	noLength     bool
	extra        int64
	endless      bool
	encoding     string
	announce     int64
	cutFirst     int64
	rangeData    []byte
	rangeETag    *string
	rangeLastMod *string
	hang         bool
	stallAfter   int64
	trickle      time.Duration
	redirect     string
	status       int
}

// An Option sets one misbehaviour.
type Option func(*config)

// WithETag sets the ETag of the file (default "\"v1\""); "" sends none.
func WithETag(etag string) Option { return func(c *config) { c.etag = etag } }

// WithLastModified sets the Last-Modified of the file; "" sends none.
func WithLastModified(v string) Option { return func(c *config) { c.lastModified = v } }

// WithoutLength sends full answers without Content-Length (chunked).
func WithoutLength() Option { return func(c *config) { c.noLength = true } }

// WithExtraBytes sends n bytes more than the file after it, without
// Content-Length.
func WithExtraBytes(n int64) Option { return func(c *config) { c.extra, c.noLength = n, true } }

// WithEndlessBody sends the file and then zeros forever, without
// Content-Length, until the client goes away.
func WithEndlessBody() Option { return func(c *config) { c.endless, c.noLength = true, true } }

// WithContentEncoding sends the body encoded ("gzip" is really gzipped)
// with that Content-Encoding.
func WithContentEncoding(enc string) Option { return func(c *config) { c.encoding = enc } }

// WithAnnouncedLength announces a Content-Length of n and sends nothing.
func WithAnnouncedLength(n int64) Option { return func(c *config) { c.announce = n } }

// WithCutFirst drops the connection of the first full answer after n body
// bytes, so that the client has a part to resume.
func WithCutFirst(n int64) Option { return func(c *config) { c.cutFirst = n } }

// WithRangeVersion answers every range request with 206 and the bytes of
// data (another version of the file), ignoring If-Range, and with the
// given ETag and Last-Modified (nil: the file's own, "": none).
func WithRangeVersion(data []byte, etag, lastModified *string) Option {
	return func(c *config) { c.rangeData, c.rangeETag, c.rangeLastMod = data, etag, lastModified }
}

// WithHang never sends response headers; the handler waits until the
// client goes away or the server closes.
func WithHang() Option { return func(c *config) { c.hang = true } }

// WithStallAfter sends n body bytes of a full answer (or of the answer
// WithStatus or WithRedirect make) and then nothing more until the client
// goes away.
func WithStallAfter(n int64) Option { return func(c *config) { c.stallAfter = n } }

// WithTrickle sends the body one byte every d.
func WithTrickle(d time.Duration) Option { return func(c *config) { c.trickle = d } }

// WithRedirect answers every request with a 302 to location (or with the
// status of WithStatus, if set), with a short text body.
func WithRedirect(location string) Option { return func(c *config) { c.redirect = location } }

// WithStatus answers every request with code and a text body of a few KiB
// without Content-Length, as an overloaded or failing service does
// (429, 503, 500...). With WithStallAfter the body stops after n bytes.
func WithStatus(code int) Option { return func(c *config) { c.status = code } }

// answerStatus sends the answer of WithStatus or WithRedirect.
func (s *Server) answerStatus(w http.ResponseWriter, r *http.Request) {
	c := &s.cfg
	code := c.status
	if c.redirect != "" {
		w.Header().Set("Location", c.redirect)
		if code == 0 {
			code = http.StatusFound
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	body := bytes.Repeat([]byte(http.StatusText(code)+"\n"), 4<<10/(len(http.StatusText(code))+1)+1)
	w.WriteHeader(code)
	if c.stallAfter < 0 {
		w.Write(body)
		return
	}
	w.Write(body[:min(c.stallAfter, int64(len(body)))])
	w.(http.Flusher).Flush()
	select {
	case <-r.Context().Done():
	case <-s.quit:
	}
}

// Ptr returns a pointer to s, for WithRangeVersion.
func Ptr(s string) *string { return &s }

// New starts a Server serving data on loopback.
func New(data []byte, opts ...Option) *Server {
	s := &Server{cfg: config{data: data, etag: `"v1"`, lastModified: "Sun, 22 Nov 2026 20:00:00 GMT", stallAfter: -1},
		quit: make(chan struct{})}
	for _, o := range opts {
		o(&s.cfg)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close ends waiting handlers and shuts the server down.
func (s *Server) Close() {
	s.once.Do(func() { close(s.quit) })
	s.Server.Close()
}

// Requests returns the number of requests answered so far.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Seen returns the headers of every request so far.
func (s *Server) Seen() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.seen...)
}

// SeenURIs returns the request target (path and query) of every request so
// far, in the order of Seen.
func (s *Server) SeenURIs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.uris...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	s.mu.Lock()
	s.seen = append(s.seen, r.Header.Clone())
	s.uris = append(s.uris, r.RequestURI)
	s.mu.Unlock()
	c := &s.cfg
	if c.hang {
		select {
		case <-r.Context().Done():
		case <-s.quit:
		}
		return
	}
	if c.redirect != "" || c.status != 0 {
		s.answerStatus(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	setOrNot := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	if rng := r.Header.Get("Range"); rng != "" && c.rangeData != nil {
		from, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(rng, "bytes="), "-"), 10, 64)
		if err != nil || from >= int64(len(c.rangeData)) {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		etag, lm := c.etag, c.lastModified
		if c.rangeETag != nil {
			etag = *c.rangeETag
		}
		if c.rangeLastMod != nil {
			lm = *c.rangeLastMod
		}
		setOrNot("ETag", etag)
		setOrNot("Last-Modified", lm)
		h.Set("Content-Range", "bytes "+strconv.FormatInt(from, 10)+"-"+strconv.Itoa(len(c.rangeData)-1)+"/"+strconv.Itoa(len(c.rangeData)))
		h.Set("Content-Length", strconv.FormatInt(int64(len(c.rangeData))-from, 10))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(c.rangeData[from:])
		return
	}
	setOrNot("ETag", c.etag)
	setOrNot("Last-Modified", c.lastModified)
	body := c.data
	if c.encoding != "" {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(c.data)
		zw.Close()
		body = b.Bytes()
		h.Set("Content-Encoding", c.encoding)
	}
	if c.announce > 0 {
		h.Set("Content-Length", strconv.FormatInt(c.announce, 10))
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	if !c.noLength {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(http.StatusOK)
	switch {
	case n == 1 && c.cutFirst > 0:
		w.Write(body[:c.cutFirst])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	case c.stallAfter >= 0:
		w.Write(body[:c.stallAfter])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-s.quit:
		}
		return
	case c.trickle > 0:
		t := time.NewTicker(c.trickle)
		defer t.Stop()
		for i := range body {
			if _, err := w.Write(body[i : i+1]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			case <-s.quit:
				return
			}
		}
		return
	}
	if _, err := w.Write(body); err != nil {
		return
	}
	if c.extra > 0 {
		w.Write(make([]byte, c.extra))
	}
	if c.endless {
		zeros := make([]byte, 64<<10)
		for {
			if _, err := w.Write(zeros); err != nil {
				return
			}
			select {
			case <-s.quit:
				return
			default:
			}
		}
	}
}
