package downloader

import (
	"io"
	"testing"

	"golang.org/x/time/rate"
)

// records is a body that returns at most rec bytes per Read, as a TLS
// connection returns one record, out of size bytes, then io.EOF.
type records struct {
	rec, left int
	reads     int
}

func (r *records) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	r.reads++
	n := min(len(p), r.rec, r.left)
	r.left -= n
	return n, nil
}

// TestReadBodyGathers checks that readBody gathers whole TLS records into
// one read of coalesceMin bytes, no more than p or the limiter's burst
// holds, and returns at the first shorter read (the next could wait) or
// at the end of the body.
func TestReadBodyGathers(t *testing.T) {
	tests := []struct {
		name      string
		size, buf int
		burst     int // limiter burst; 0: no limiter
		wantN     int
		wantReads int
		rec       int // bytes per read (default: a whole TLS record)
		wantErr   error
	}{
		{name: "16 KiB records into 256 KiB", size: 1 << 20, buf: 256 << 10, wantN: coalesceMin, wantReads: coalesceMin / (16 << 10)},
		{name: "small buffer", size: 1 << 20, buf: 4 << 10, wantN: 4 << 10, wantReads: 1},
		{name: "body ends", size: 40 << 10, buf: 256 << 10, wantN: 40 << 10, wantReads: 3},
		{name: "body ends on a record", size: 32 << 10, buf: 256 << 10, wantN: 32 << 10, wantReads: 2, wantErr: io.EOF},
		{name: "short reads are not gathered", size: 1 << 20, buf: 256 << 10, rec: 10 << 10, wantN: 10 << 10, wantReads: 1},
		{name: "limiter burst", size: 1 << 20, buf: 256 << 10, burst: 32 << 10, wantN: 32 << 10, wantReads: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Dir: t.TempDir()}
			if tt.burst > 0 {
				cfg.Limiter = rate.NewLimiter(rate.Inf, tt.burst)
				cfg.Limiter.SetLimit(1 << 40)
			}
			d := newTest(t, cfg)
			rec := tt.rec
			if rec == 0 {
				rec = tlsRecord
			}
			body := &records{rec: rec, left: tt.size}
			var rw rateWindow
			n, err := d.readBody(t.Context(), body, make([]byte, tt.buf), &rw)
			if n != tt.wantN || err != tt.wantErr || body.reads != tt.wantReads {
				t.Errorf("readBody = %d, %v after %d reads; want %d, %v after %d", n, err, body.reads, tt.wantN, tt.wantErr, tt.wantReads)
			}
		})
	}
}
