package httpguard_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/wcdl/wcdl/downloader/hostiletest"
	"github.com/wcdl/wcdl/internal/httpguard"
)

// TestTransport checks each wait the Transport bounds, and that a
// well-behaved answer passes whole.
func TestTransport(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 10<<10)
	tests := []struct {
		name     string
		opts     []hostiletest.Option
		wantRT   error // from RoundTrip
		wantRead error // from reading the body to its end
		wantBody int   // bytes read
	}{
		{name: "well behaved", wantBody: len(data)},
		{name: "no headers", opts: []hostiletest.Option{hostiletest.WithHang()}, wantRT: httpguard.ErrStalled},
		{name: "200 body stops", opts: []hostiletest.Option{hostiletest.WithStallAfter(100)}, wantRead: httpguard.ErrStalled, wantBody: 100},
		{name: "503 body stops", opts: []hostiletest.Option{hostiletest.WithStatus(http.StatusServiceUnavailable), hostiletest.WithStallAfter(7)},
			wantRead: httpguard.ErrStalled, wantBody: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := hostiletest.New(data, tt.opts...)
			t.Cleanup(s.Close)
			rt := &httpguard.Transport{Base: &http.Transport{}, Stall: 100 * time.Millisecond}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/f", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := rt.RoundTrip(req)
			if !errors.Is(err, tt.wantRT) || (tt.wantRT == nil && err != nil) {
				t.Fatalf("RoundTrip: %v, want %v", err, tt.wantRT)
			}
			if err != nil {
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if !errors.Is(err, tt.wantRead) || (tt.wantRead == nil && err != nil) {
				t.Errorf("reading the body: %v, want %v", err, tt.wantRead)
			}
			if len(b) != tt.wantBody {
				t.Errorf("read %d bytes, want %d", len(b), tt.wantBody)
			}
			if _, err := resp.Body.Read(make([]byte, 1)); tt.wantRead != nil && !errors.Is(err, tt.wantRead) {
				t.Errorf("a read after the cut: %v, want %v", err, tt.wantRead)
			}
		})
	}
}

// TestTransportRemovesReferer checks that no request goes out with a
// Referer, and that the caller's request keeps its own.
func TestTransportRemovesReferer(t *testing.T) {
	s := hostiletest.New([]byte("x"))
	t.Cleanup(s.Close)
	rt := &httpguard.Transport{Base: &http.Transport{}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/f", nil)
	if err != nil {
		t.Fatal(err)
	}
	const ref = "https://signed.example/f?sig=secret"
	req.Header.Set("Referer", ref)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := s.Seen()[0].Values("Referer"); len(got) != 0 {
		t.Errorf("the server got Referer %q, want none", got)
	}
	if got := req.Header.Get("Referer"); got != ref {
		t.Errorf("the caller's request now has Referer %q, want it unchanged (%q)", got, ref)
	}
}
