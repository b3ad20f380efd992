package connrate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// recorder records the size of each write and counts flushes.
type recorder struct {
	*httptest.ResponseRecorder
	writes  []int
	flushes int
}

func (r *recorder) Write(b []byte) (int, error) {
	r.writes = append(r.writes, len(b))
	return r.ResponseRecorder.Write(b)
}

func (r *recorder) Flush() { r.flushes++ }

func TestWriter(t *testing.T) {
	tests := []struct {
		name       string
		rate       int64
		wantWrites []int
	}{
		// 1 MiB/s: bursts of a tenth of that; 250000 bytes go in 3
		// sends, each flushed. The limiter starts full, so only the last
		// two are waited for (about 0.2 s in all).
		{"paced", 1 << 20, []int{104857, 104857, 40286}},
		{"no cap", 0, []int{250000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if cc := ConnContext(tt.rate); cc != nil {
				req = req.WithContext(cc(context.Background(), nil))
			}
			rec := &recorder{ResponseRecorder: httptest.NewRecorder()}
			n, err := Writer(rec, req).Write(make([]byte, 250000))
			if n != 250000 || err != nil {
				t.Fatalf("Write: got %d, %v; want 250000, nil", n, err)
			}
			if !slices.Equal(rec.writes, tt.wantWrites) {
				t.Errorf("writes: got %v, want %v", rec.writes, tt.wantWrites)
			}
			if tt.rate > 0 && rec.flushes != len(tt.wantWrites) {
				t.Errorf("flushes: got %d, want one per write, %d", rec.flushes, len(tt.wantWrites))
			}
		})
	}
}
