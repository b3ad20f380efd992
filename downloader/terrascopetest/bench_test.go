package terrascopetest

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkServe measures how fast the server sends a whole 64 MiB file to
// a client that discards it, over loopback, one request at a time.
func BenchmarkServe(b *testing.B) {
	const size = 64 << 20
	s := NewServer(nil, WithFileSize(size))
	defer s.Close()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	buf := make([]byte, 256<<10)
	b.SetBytes(size)
	for b.Loop() {
		resp, err := c.Get(s.URL() + "/bench/x.tif")
		if err != nil {
			b.Fatal(err)
		}
		// Hide io.Discard's ReadFrom and its small buffer.
		n, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, resp.Body, buf)
		resp.Body.Close()
		if err != nil || n != size {
			b.Fatalf("read %d bytes, %v; want %d", n, err, size)
		}
	}
}

// BenchmarkReadAt measures the content generator alone.
func BenchmarkReadAt(b *testing.B) {
	s := NewServer(nil, WithFileSize(1<<30))
	defer s.Close()
	r := s.Content("bench/x.tif")
	p := make([]byte, 256<<10)
	b.SetBytes(int64(len(p)))
	var off int64
	for b.Loop() {
		r.ReadAt(p, off)
		off = (off + int64(len(p))) % (1<<30 - int64(len(p)))
	}
}
