package downloader

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// TestUnreachableStopsBatch: a service that cannot be reached at all stops
// the batch after a few entries, which fail; the rest are not started.
func TestUnreachableStopsBatch(t *testing.T) {
	refused := func(t *testing.T) (string, *http.Client) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there now: connection refused
		return "http://" + addr, nil
	}
	noSuchHost := func(t *testing.T) (string, *http.Client) {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = func(_ context.Context, _, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			// What the resolver answers for a name that does not exist.
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
		}
		return "http://tiles.example.invalid", &http.Client{Transport: tr}
	}
	var handshakes atomic.Int64
	untrusted := func(t *testing.T) (string, *http.Client) {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				handshakes.Add(1)
			}
		}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.URL, nil // a client that does not trust the test CA
	}
	tests := []struct {
		name      string
		setup     func(*testing.T) (string, *http.Client)
		wantCause string
		wantAtts  int // attempts per failed entry
	}{
		{"connection refused", refused, "the connection was refused", 2},
		{"no such host", noSuchHost, "the name does not resolve", 2},
		{"untrusted certificate", untrusted, "not trusted", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, client := tt.setup(t)
			var entries []manifest.Entry
			for i := range 50 {
				name := "t" + strconv.Itoa(i) + ".tif"
				entries = append(entries, entry(base+"/"+name, name))
			}
			handshakes.Store(0)
			const workers = 2
			d := newTest(t, Config{Workers: workers, Attempts: 2, Client: client})
			res, err := d.Run(context.Background(), entries)
			var ue *UnreachableError
			if !errors.Is(err, ErrUnreachable) || !errors.As(err, &ue) {
				t.Fatalf("Run error = %v, want an *UnreachableError", err)
			}
			if !strings.Contains(ue.Reason(), tt.wantCause) || ue.Host == "" || !strings.Contains(ue.Reason(), ue.Host) {
				t.Errorf("Reason() = %q, want the host and %q", ue.Reason(), tt.wantCause)
			}
			failed := 0
			for _, r := range res {
				switch r.Status {
				case Failed:
					failed++
					if !errors.Is(r.Err, ErrUnreachable) && !errors.Is(r.Err, context.Canceled) {
						t.Errorf("%s: %v, want ErrUnreachable", r.Entry.Name, r.Err)
					}
					// An entry cut short by the stop may have made fewer.
					if r.Attempts < 1 || r.Attempts > tt.wantAtts {
						t.Errorf("%s: %d attempts, want 1 to %d", r.Entry.Name, r.Attempts, tt.wantAtts)
					}
				case NotStarted:
					if !errors.Is(r.Err, ErrNotStarted) || !errors.Is(r.Err, ErrUnreachable) || r.Attempts != 0 {
						t.Errorf("%s: %v after %d attempts, want not started for ErrUnreachable", r.Entry.Name, r.Err, r.Attempts)
					}
				default:
					t.Errorf("%s: %s, want failed or not_started", r.Entry.Name, r.Status)
				}
			}
			if failed < unreachableRun || failed > unreachableRun+workers-1 {
				t.Errorf("failed entries: got %d, want %d to %d", failed, unreachableRun, unreachableRun+workers-1)
			}
			if p := d.Progress(); p.NotStarted != int64(len(entries)-failed) {
				t.Errorf("Progress = %+v, want %d not started", p, len(entries)-failed)
			}
			if tt.name == "untrusted certificate" {
				if got := handshakes.Load(); got < 1 || got > int64(failed) {
					t.Errorf("TLS connections: got %d, want 1 to %d (at most one per failed entry: certificate errors are not retried)", got, failed)
				}
			}
		})
	}
}

// TestUnreachableNeedsARun: a success between unreachable entries keeps
// the batch going, and a batch shorter than the run is never stopped.
func TestUnreachableNeedsARun(t *testing.T) {
	svc := newFakeService(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	var entries []manifest.Entry
	for i := range 12 {
		name := "f" + strconv.Itoa(i) + ".bin"
		u := dead + "/" + name
		if i%unreachableRun == unreachableRun-1 {
			u = svc.add("/"+name, &fakeFile{data: content(100, uint64(i))})
		}
		entries = append(entries, entry(u, name))
	}
	d := newTest(t, Config{Workers: 1, Attempts: 1})
	res := run(t, d, entries...)
	for i, r := range res {
		want := Failed
		if i%unreachableRun == unreachableRun-1 {
			want = Downloaded
		}
		if r.Status != want {
			t.Errorf("%s: %s (%v), want %s", r.Entry.Name, r.Status, r.Err, want)
		}
	}
}
