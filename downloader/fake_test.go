package downloader

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeFile is one file served by fakeService.
type fakeFile struct {
	data    []byte
	etag    string
	noRange bool // ignore Range headers, as some servers do
	// reply, when set, may answer request n (1-based) itself and return
	// true; otherwise the file is served.
	reply func(n int, w http.ResponseWriter, r *http.Request) bool
	// cutAfter, when set, returns after how many body bytes answer n is
	// cut off (the connection is dropped), or -1 to send it whole.
	cutAfter func(n int) int64
	requests int
}

// seenRequest records what the client sent.
type seenRequest struct {
	Path, Range, IfRange, Authorization string
	At                                  time.Time
}

// fakeService serves files with real 200/206/416 answers (http.ServeContent),
// strong ETags, and injectable faults, and counts what it sends.
type fakeService struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string]*fakeFile
	seen  []seenRequest
	sent  atomic.Int64 // body bytes written
	// guard, when set, may refuse a request (answering it itself and
	// returning true) after the file's reply hook ran.
	guard    func(w http.ResponseWriter, r *http.Request) bool
	requests atomic.Int64
	// inflight counts the requests being answered, peak the most at once.
	inflight, peak atomic.Int64
	exited         chan struct{} // a token after a request's answer ended
	proto          protocol
	badProto       atomic.Int64 // requests over another HTTP version than proto's
}

// protocol is how a fakeService is reached.
type protocol struct {
	name  string
	tls   bool
	h2    bool // the client multiplexes over HTTP/2 (httptest's client)
	proto int  // the HTTP major version the server must see
}

// protocols are the ways the downloader's tests reach a fake service: plain
// HTTP, TLS through NewTransport (HTTP/1.1), and TLS with an HTTP/2 client,
// as a caller that brings its own client may use.
var protocols = []protocol{
	{name: "http", proto: 1},
	{name: "https", tls: true, proto: 1},
	{name: "https-h2", tls: true, h2: true, proto: 2},
}

// newFakeService starts a fake service, over p if given, else plain HTTP.
func newFakeService(t testing.TB, p ...protocol) *fakeService {
	s := &fakeService{files: map[string]*fakeFile{}, exited: make(chan struct{}, 1)}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if len(p) > 0 {
		s.proto = p[0]
	}
	if s.proto.tls {
		s.EnableHTTP2 = true // offered to every client; NewTransport declines it
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(func() {
		if n := s.badProto.Load(); n > 0 {
			t.Errorf("%d requests came over another HTTP version than %s's", n, s.proto.name)
		}
	})
	t.Cleanup(s.Close)
	return s
}

// cfg returns c with a Client for the service's protocol.
func (s *fakeService) cfg(c Config) Config {
	switch {
	case s.proto.h2:
		c.Client = s.Client()
	case s.proto.tls:
		pool := x509.NewCertPool()
		pool.AddCert(s.Certificate())
		workers := c.Workers
		if workers == 0 {
			workers = 4
		}
		c.Client = &http.Client{Transport: NewTransport(workers, &tls.Config{RootCAs: pool})}
	}
	return c
}

// add serves data at path and returns its URL.
func (s *fakeService) add(path string, f *fakeFile) string {
	if f.etag == "" {
		f.etag = fmt.Sprintf(`"v%d"`, rand.Uint64())
	}
	s.mu.Lock()
	s.files[path] = f
	s.mu.Unlock()
	return s.URL + path
}

// set replaces the content of path with a new version.
func (s *fakeService) set(path string, data []byte, etag string) {
	s.mu.Lock()
	s.files[path].data, s.files[path].etag = data, etag
	s.mu.Unlock()
}

func (s *fakeService) seenFor(path string) []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []seenRequest
	for _, r := range s.seen {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// waitIdle waits until no request is being answered: the answers to a
// cancelled client end when the service sees its connection close, and
// only then have they written (and counted in sent) all they will.
func (s *fakeService) waitIdle() {
	for s.inflight.Load() != 0 {
		<-s.exited
	}
}

func (s *fakeService) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	n := s.inflight.Add(1)
	defer func() {
		s.inflight.Add(-1)
		select {
		case s.exited <- struct{}{}:
		default: // a token is already there: waitIdle looks again anyway
		}
	}()
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	if s.proto.proto != 0 && r.ProtoMajor != s.proto.proto {
		s.badProto.Add(1)
	}
	s.mu.Lock()
	s.seen = append(s.seen, seenRequest{Path: r.URL.Path, Range: r.Header.Get("Range"),
		IfRange: r.Header.Get("If-Range"), Authorization: r.Header.Get("Authorization"), At: time.Now()})
	f, ok := s.files[r.URL.Path]
	if !ok {
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	f.requests++
	n = int64(f.requests)
	s.mu.Unlock()
	if f.reply != nil && f.reply(int(n), w, r) {
		return
	}
	if s.guard != nil && s.guard(w, r) {
		return
	}
	s.mu.Lock()
	data, etag := f.data, f.etag
	s.mu.Unlock()
	if f.noRange {
		r.Header.Del("Range")
	}
	cut := int64(-1)
	if f.cutAfter != nil {
		cut = f.cutAfter(int(n))
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/octet-stream")
	cw := &countingWriter{ResponseWriter: w, sent: &s.sent, left: cut}
	http.ServeContent(cw, r, "", time.Time{}, bytes.NewReader(data))
}

// countingWriter counts body bytes and drops the connection after left
// bytes when left >= 0.
type countingWriter struct {
	http.ResponseWriter
	sent *atomic.Int64
	left int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.left >= 0 && int64(len(p)) > w.left {
		n, _ := w.ResponseWriter.Write(p[:w.left])
		w.sent.Add(int64(n))
		w.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}
	if w.left >= 0 {
		w.left -= int64(len(p))
	}
	n, err := w.ResponseWriter.Write(p)
	w.sent.Add(int64(n))
	return n, err
}

// content returns n deterministic pseudo-random bytes that do not look like
// a web page.
func content(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if n > 0 {
		b[0] = 0
	}
	return b
}

// cutFirst cuts the first k answers after at bytes.
func cutFirst(k int, at int64) func(int) int64 {
	return func(n int) int64 {
		if n <= k {
			return at
		}
		return -1
	}
}
