// Package blobtest provides a fake of an Azure Blob container behind
// service SAS tokens (such as the Planetary Computer's esa-worldcover
// container) for tests and the simulator, in the manner of
// net/http/httptest.
//
// It answers requests in the loopback emulator's style, the account as the
// first path segment (http://127.0.0.1:PORT/ACCOUNT/CONTAINER/BLOB), as
// Azurite does: GET and HEAD of a block blob with Content-Length, a quoted
// ETag, Last-Modified, x-ms-blob-type, x-ms-request-id, x-ms-version and
// the blob's MD5 (Content-MD5 on a whole GET and HEAD,
// x-ms-blob-content-md5 on a GET), 206 answers to a Range with
// Content-Range, 416 InvalidRange past the end, and the service's XML
// error document with x-ms-error-code: 404 BlobNotFound, and 403 for a
// request whose SAS is missing, expired, forged or for another container.
// SAS tokens are checked as pctest signs them (pctest.VerifyContainerSAS),
// with the account key given.
//
// As Azure and Azurite, it ignores If-Range: a client must compare the
// ETag of a 206 with the one it holds.
package blobtest

import (
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wcdl/wcdl/auth/pctest"
	"github.com/wcdl/wcdl/internal/connrate"
)

// Error codes a refused SAS is answered with.
const (
	// AuthenticationFailed is Azure's code for a missing, expired or
	// forged signature.
	AuthenticationFailed = "AuthenticationFailed"
	// AuthorizationFailure is the code Azurite (3.35) sends instead.
	AuthorizationFailure = "AuthorizationFailure"
)

// Version is the x-ms-version the server answers with, Azurite's.
const Version = "2025-11-05"

// A blob is what the container holds under a name.
type blob struct {
	body []byte
	etag string // quoted
	md5  string // base64
}

// A Generator makes the body of a blob on first request, or reports that
// the container has no such blob. It must be deterministic and safe for
// concurrent use.
type Generator func(name string) ([]byte, bool)

// An Option configures a Server.
type Option func(*Server)

// WithListener makes the server accept connections on l.
func WithListener(l net.Listener) Option { return func(s *Server) { s.l = l } }

// WithGenerator makes blobs not Put on the server come from gen.
func WithGenerator(gen Generator) Option { return func(s *Server) { s.gen = gen } }

// WithConnRate caps the bytes per second each connection sends (0: none).
func WithConnRate(bytesPerSec int64) Option { return func(s *Server) { s.connRate = bytesPerSec } }

// WithNow sets the clock SAS expiries are checked against (time.Now).
func WithNow(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithRefusalCode sets the x-ms-error-code of a refused SAS:
// AuthenticationFailed (the default, Azure's) or AuthorizationFailure
// (Azurite's).
func WithRefusalCode(code string) Option { return func(s *Server) { s.refusal = code } }

// Stats counts what a Server has seen.
type Stats struct {
	Requests      int64 // every request
	Refused       int64 // 403 answers to a missing, expired or forged SAS
	RangeRequests int64 // requests with a Range header
	NotFound      int64 // 404 answers
}

// A Server is a fake Azure Blob container on loopback.
type Server struct {
	account, key, container string

	l        net.Listener
	srv      *http.Server
	gen      Generator
	connRate int64
	now      func() time.Time
	refusal  string

	mu    sync.Mutex
	blobs map[string]*blob

	requests, refused, ranges, notFound atomic.Int64
	ids                                 atomic.Int64
}

// modTime is every blob's Last-Modified and creation time.
var modTime = time.Date(2021, time.October, 18, 9, 30, 0, 0, time.UTC)

// NewServer starts a Server holding container of account, whose SAS tokens
// are signed with key (base64, as pctest.DevKey), on 127.0.0.1 on a free
// port (or WithListener's). It panics if it cannot listen, as
// httptest.NewServer does. Callers must Close it.
func NewServer(account, key, container string, opts ...Option) *Server {
	s := &Server{account: account, key: key, container: container, blobs: map[string]*blob{},
		now: time.Now, refusal: AuthenticationFailed}
	for _, o := range opts {
		o(s)
	}
	if s.l == nil {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(fmt.Sprintf("blobtest: listen: %v", err))
		}
		s.l = l
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: time.Minute,
		ConnContext: connrate.ConnContext(s.connRate)}
	go s.srv.Serve(s.l)
	return s
}

// URL returns the container's URL, emulator style:
// http://127.0.0.1:PORT/ACCOUNT/CONTAINER.
func (s *Server) URL() string {
	return "http://" + s.l.Addr().String() + "/" + s.account + "/" + s.container
}

// ConnRate returns the cap on each connection's bytes per second the
// server was started with (WithConnRate), 0 for none.
func (s *Server) ConnRate() int64 { return s.connRate }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{Requests: s.requests.Load(), Refused: s.refused.Load(), RangeRequests: s.ranges.Load(), NotFound: s.notFound.Load()}
}

// Put stores body under name, with its MD5 as Content-MD5, as Put Blob
// does.
func (s *Server) Put(name string, body []byte) { s.store(name, newBlob(body, s.ids.Add(1))) }

// Tamper replaces the bytes of name and keeps its ETag and Content-MD5,
// as a disk that corrupts a blob would.
func (s *Server) Tamper(name string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.blobs[name]
	s.blobs[name] = &blob{body: body, etag: b.etag, md5: b.md5}
}

func newBlob(body []byte, n int64) *blob {
	sum := md5.Sum(body)
	// Azure's ETags are "0x" and 15 hex digits of a change counter.
	return &blob{body: body, etag: fmt.Sprintf(`"0x8D9921%09X"`, n), md5: base64.StdEncoding.EncodeToString(sum[:])}
}

func (s *Server) store(name string, b *blob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blobs[name] = b
}

// lookup returns the blob at name, generating it if needed.
func (s *Server) lookup(name string) (*blob, bool) {
	s.mu.Lock()
	b, ok := s.blobs[name]
	s.mu.Unlock()
	if ok || s.gen == nil {
		return b, ok
	}
	body, ok := s.gen(name)
	if !ok {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.blobs[name]; ok { // generated meanwhile by another request
		return b, true
	}
	b = newBlob(body, s.ids.Add(1))
	s.blobs[name] = b
	return b, true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if r.Header.Get("Range") != "" || r.Header.Get("x-ms-range") != "" {
		s.ranges.Add(1)
	}
	id := requestID(s.ids.Add(1))
	h := w.Header()
	h.Set("x-ms-request-id", id)
	h.Set("Server", "Azurite-Blob/3.35.0")
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if len(parts) < 3 || parts[0] != s.account || parts[1] != s.container || parts[2] == "" {
		s.fail(w, r, id, http.StatusNotFound, "ResourceNotFound", "The specified resource does not exist.")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.fail(w, r, id, http.StatusMethodNotAllowed, "UnsupportedHttpVerb", "The resource doesn't support specified Http Verb.")
		return
	}
	if err := pctest.VerifyContainerSAS(s.account, s.key, s.container, r.URL.Query(), s.now()); err != nil {
		s.refused.Add(1)
		s.fail(w, r, id, http.StatusForbidden, s.refusal,
			"Server failed to authenticate the request. Make sure the value of the Authorization header is formed correctly including the signature.")
		return
	}
	b, ok := s.lookup(parts[2])
	if !ok {
		s.fail(w, r, id, http.StatusNotFound, "BlobNotFound", "The specified blob does not exist.")
		return
	}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", b.etag)
	h.Set("Last-Modified", modTime.Format(http.TimeFormat))
	h.Set("x-ms-creation-time", modTime.Format(http.TimeFormat))
	h.Set("x-ms-version", Version)
	h.Set("x-ms-blob-type", "BlockBlob")
	h.Set("x-ms-lease-state", "available")
	h.Set("x-ms-lease-status", "unlocked")
	h.Set("x-ms-server-encrypted", "true")
	h.Set("Accept-Ranges", "bytes")
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	size := int64(len(b.body))
	start, end, partial, ok := byteRange(r, size)
	if !ok {
		h.Del("Content-Type")
		for _, k := range []string{"ETag", "Last-Modified", "x-ms-creation-time", "x-ms-version", "x-ms-blob-type",
			"x-ms-lease-state", "x-ms-lease-status", "x-ms-server-encrypted", "Accept-Ranges"} {
			h.Del(k)
		}
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		s.fail(w, r, id, http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The range specified is invalid for the current size of the resource.")
		return
	}
	code := http.StatusOK
	switch {
	case partial:
		code = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, size))
		h.Set("x-ms-blob-content-md5", b.md5)
	case r.Method == http.MethodHead:
		h.Set("Content-MD5", b.md5)
		h.Set("x-ms-access-tier", "Hot")
	default:
		h.Set("Content-MD5", b.md5)
		h.Set("x-ms-blob-content-md5", b.md5)
	}
	h.Set("Content-Length", strconv.FormatInt(end-start, 10))
	w.WriteHeader(code)
	if r.Method == http.MethodGet {
		connrate.Writer(w, r).Write(b.body[start:end])
	}
}

// byteRange reads the Range (or x-ms-range, which wins) of r as Azure
// does: one range, bytes=a-b or bytes=a-; anything else is ignored and the
// whole blob served. ok is false for a range that starts past the end.
func byteRange(r *http.Request, size int64) (start, end int64, partial, ok bool) {
	v := r.Header.Get("x-ms-range")
	if v == "" {
		v = r.Header.Get("Range")
	}
	spec, found := strings.CutPrefix(v, "bytes=")
	a, b, dash := strings.Cut(spec, "-")
	first, err := strconv.ParseInt(a, 10, 64)
	if !found || !dash || err != nil || first < 0 {
		return 0, size, false, true
	}
	last := size - 1
	if b != "" {
		if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
			return 0, size, false, true
		}
	}
	if first >= size {
		return 0, 0, false, false
	}
	return first, min(last+1, size), true, true
}

// requestID makes an x-ms-request-id in the service's GUID form.
func requestID(n int64) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(n>>32), uint64(n)&0xffffffffffff)
}

// fail answers with the Blob service's XML error document and
// x-ms-error-code; a HEAD gets the headers only, as from Azure.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, id string, code int, errCode, msg string) {
	if code == http.StatusNotFound {
		s.notFound.Add(1)
	}
	w.Header().Set("x-ms-error-code", errCode)
	if r.Method == http.MethodHead {
		w.WriteHeader(code)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Error>\n  <Code>%s</Code>\n  <Message>%s\nRequestId:%s\nTime:%s</Message>\n</Error>",
		errCode, msg, id, s.now().UTC().Format("2006-01-02T15:04:05.000Z"))
}
