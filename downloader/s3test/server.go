// Package s3test provides a fake of an anonymous, public S3 bucket (such as
// ESA's esa-worldcover open-data bucket) for tests and the simulator, in
// the manner of net/http/httptest.
//
// It answers path-style requests (http://127.0.0.1:PORT/BUCKET/KEY) as S3
// does for a public object: GET and HEAD with Content-Length, an ETag that
// is the object's MD5 (or, for an object stored as a multipart upload, the
// MD5 of its parts' MD5s followed by "-N"), Last-Modified,
// x-amz-request-id, 206 answers to Range with If-Range, and NoSuchKey XML
// for a missing key; GET on the bucket with list-type=2 answers
// ListObjectsV2 (prefix, max-keys, continuation-token). It needs no
// credentials and counts the requests that carried any, so tests can check
// that a client sent none.
package s3test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wcdl/wcdl/internal/connrate"
)

// An object is what the bucket holds under a key.
type object struct {
	body []byte
	etag string // quoted
}

// A Generator makes the body of key on first request, or reports that the
// bucket has no such key. It must be deterministic and safe for concurrent
// use.
type Generator func(key string) ([]byte, bool)

// An Option configures a Server.
type Option func(*Server)

// WithListener makes the server accept connections on l.
func WithListener(l net.Listener) Option { return func(s *Server) { s.l = l } }

// WithGenerator makes keys not Put on the server come from gen.
func WithGenerator(gen Generator) Option { return func(s *Server) { s.gen = gen } }

// WithConnRate caps the bytes per second each connection sends (0: none).
func WithConnRate(bytesPerSec int64) Option { return func(s *Server) { s.connRate = bytesPerSec } }

// Stats counts what a Server has seen.
type Stats struct {
	Requests          int64 // every request
	AuthorizationSeen int64 // requests with an Authorization header
	QuerySeen         int64 // object requests (not listings) with a query
	RangeRequests     int64 // requests with a Range header
	NotFound          int64 // 404 answers
}

// A Server is a fake public S3 bucket on loopback.
type Server struct {
	bucket string
	l      net.Listener
	srv    *http.Server
	gen    Generator
	// connRate caps each connection's bytes per second (0: none).
	connRate int64

	mu      sync.Mutex
	objects map[string]*object

	requests, auth, query, ranges, notFound atomic.Int64
	ids                                     atomic.Int64
}

// modTime is every object's Last-Modified.
var modTime = time.Date(2021, time.October, 18, 9, 30, 0, 0, time.UTC)

// NewServer starts a Server holding bucket on 127.0.0.1 on a free port (or
// WithListener's). It panics if it cannot listen, as httptest.NewServer
// does. Callers must Close it.
func NewServer(bucket string, opts ...Option) *Server {
	s := &Server{bucket: bucket, objects: map[string]*object{}}
	for _, o := range opts {
		o(s)
	}
	if s.l == nil {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(fmt.Sprintf("s3test: listen: %v", err))
		}
		s.l = l
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: time.Minute,
		ConnContext: connrate.ConnContext(s.connRate)}
	go s.srv.Serve(s.l)
	return s
}

// URL returns the bucket's URL, path-style: http://127.0.0.1:PORT/BUCKET.
func (s *Server) URL() string { return "http://" + s.l.Addr().String() + "/" + s.bucket }

// ConnRate returns the cap on each connection's bytes per second the
// server was started with (WithConnRate), 0 for none.
func (s *Server) ConnRate() int64 { return s.connRate }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{Requests: s.requests.Load(), AuthorizationSeen: s.auth.Load(), QuerySeen: s.query.Load(),
		RangeRequests: s.ranges.Load(), NotFound: s.notFound.Load()}
}

// Put stores body under key as a single-part upload: its ETag is its MD5.
func (s *Server) Put(key string, body []byte) {
	sum := md5.Sum(body)
	s.store(key, &object{body: body, etag: `"` + hex.EncodeToString(sum[:]) + `"`})
}

// PutMultipart stores body under key as a multipart upload of partSize
// parts: its ETag is the MD5 of the parts' MD5s, "-N".
func (s *Server) PutMultipart(key string, body []byte, partSize int) {
	s.store(key, &object{body: body, etag: MultipartETag(body, partSize)})
}

// Tamper replaces the bytes of key and keeps its ETag, as a disk that
// corrupts an object, or someone writing behind the store's back, would.
func (s *Server) Tamper(key string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objects[key]
	s.objects[key] = &object{body: body, etag: o.etag}
}

// MultipartETag is the ETag S3 gives body uploaded in parts of partSize.
func MultipartETag(body []byte, partSize int) string {
	var sums []byte
	n := 0
	for off := 0; off < len(body) || n == 0; off += partSize {
		sum := md5.Sum(body[off:min(off+partSize, len(body))])
		sums = append(sums, sum[:]...)
		n++
	}
	all := md5.Sum(sums)
	return `"` + hex.EncodeToString(all[:]) + "-" + strconv.Itoa(n) + `"`
}

func (s *Server) store(key string, o *object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[key] = o
}

// lookup returns the object at key, generating it if needed.
func (s *Server) lookup(key string) (*object, bool) {
	s.mu.Lock()
	o, ok := s.objects[key]
	s.mu.Unlock()
	if ok || s.gen == nil {
		return o, ok
	}
	body, ok := s.gen(key)
	if !ok {
		return nil, false
	}
	sum := md5.Sum(body)
	o = &object{body: body, etag: `"` + hex.EncodeToString(sum[:]) + `"`}
	s.store(key, o)
	return o, true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if r.Header.Get("Authorization") != "" {
		s.auth.Add(1)
	}
	if r.Header.Get("Range") != "" {
		s.ranges.Add(1)
	}
	w.Header().Set("x-amz-request-id", strconv.FormatInt(s.ids.Add(1), 16))
	w.Header().Set("Server", "AmazonS3")
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket != s.bucket {
		s.fail(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.fail(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		return
	}
	if key == "" {
		s.list(w, r)
		return
	}
	if r.URL.RawQuery != "" {
		s.query.Add(1)
	}
	o, ok := s.lookup(key)
	if !ok {
		s.fail(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	w.Header().Set("ETag", o.etag)
	w.Header().Set("Content-Type", "binary/octet-stream")
	w.Header().Set("Accept-Ranges", "bytes")
	http.ServeContent(connrate.Writer(w, r), r, "", modTime, bytes.NewReader(o.body))
}

// fail answers with S3's XML error document.
func (s *Server) fail(w http.ResponseWriter, code int, errCode, msg string) {
	if code == http.StatusNotFound {
		s.notFound.Add(1)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>", errCode, msg)
}
