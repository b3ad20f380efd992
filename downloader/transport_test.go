package downloader

import (
	"crypto/tls"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// barrier holds the first n responses until n have arrived, so that n
// transfers are in flight at once, each holding its connection.
type barrier struct {
	next http.RoundTripper
	n    int
	mu   sync.Mutex
	seen int
	all  chan struct{}
}

func newBarrier(next http.RoundTripper, n int) *barrier {
	return &barrier{next: next, n: n, all: make(chan struct{})}
}

func (b *barrier) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(req)
	b.mu.Lock()
	b.seen++
	if b.seen == b.n {
		close(b.all)
	}
	held := b.seen <= b.n
	b.mu.Unlock()
	if held {
		select {
		case <-b.all:
		case <-req.Context().Done():
		}
	}
	return resp, err
}

// TestConnectionPerTransfer checks that -w 4 against a server offering
// HTTP/2 uses 4 TCP connections, one per transfer, and never has more than
// 4 transfers in flight; an HTTP/2 client, by contrast, puts them all on
// one connection.
func TestConnectionPerTransfer(t *testing.T) {
	const workers, files = 4, 12
	tests := []struct {
		name      string
		transport func(t *testing.T, s *terrascopetest.Server) http.RoundTripper
		wantConns int64
	}{
		{name: "NewTransport", wantConns: workers, transport: func(t *testing.T, s *terrascopetest.Server) http.RoundTripper {
			return NewTransport(workers, &tls.Config{RootCAs: s.CA().Pool})
		}},
		{name: "an HTTP/2 client multiplexes", wantConns: 1, transport: func(t *testing.T, s *terrascopetest.Server) http.RoundTripper {
			// Once it holds a connection, an HTTP/2 client sends every
			// request over it.
			c := s.Client()
			resp, err := c.Get(s.URL() + "/warm-up")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return c.Transport
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := terrascopetest.NewServer(nil, terrascopetest.WithTLS(nil), terrascopetest.WithFileSize(256<<10))
			t.Cleanup(s.Close)
			d := newTest(t, Config{Workers: workers,
				Client: &http.Client{Transport: newBarrier(tt.transport(t, s), workers)}})
			for _, r := range run(t, d, tileEntries(s, files)...) {
				if r.Status != Downloaded {
					t.Fatalf("%s: %s (%v)", r.Entry.Name, r.Status, r.Err)
				}
			}
			st := s.Stats()
			if st.Connections != tt.wantConns {
				t.Errorf("server saw %d connections, want %d", st.Connections, tt.wantConns)
			}
			if st.MaxInFlight > workers {
				t.Errorf("%d downloads in flight at once, want at most %d", st.MaxInFlight, workers)
			}
		})
	}
}
