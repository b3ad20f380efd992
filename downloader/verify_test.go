package downloader

import (
	"context"
	"errors"
	"testing"

	"github.com/wcdl/wcdl/manifest"
	"github.com/wcdl/wcdl/output/outputtest"
)

// TestVerifyCutShortIsNotCorrupt checks that a TIFF check ended by the
// run's context reports the context's end, not a corrupt file: publish
// then keeps the part for the next run instead of discarding it.
func TestVerifyCutShortIsNotCorrupt(t *testing.T) {
	data := tiffFile(t, 300<<10)
	tests := []struct {
		name   string
		data   []byte
		cancel bool
		want   error
	}{
		{name: "complete", data: data},
		{name: "truncated", data: data[:len(data)-1000], want: ErrCorrupt},
		{name: "complete, interrupted", data: data, cancel: true, want: context.Canceled},
		{name: "truncated, interrupted", data: data[:len(data)-1000], cancel: true, want: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := outputtest.New(false).Open(context.Background(), "tile.tif", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(tt.data, 0); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			j := &job{e: manifest.Entry{Name: "tile.tif", Size: -1}, f: f}
			err = j.verify(ctx, int64(len(tt.data)), fileHashes{})
			if tt.want == nil && err != nil {
				t.Fatalf("verify: got %v, want nil", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("verify: got %v, want an error wrapping %v", err, tt.want)
			}
			if tt.cancel && errors.Is(err, ErrCorrupt) {
				t.Fatalf("verify: got %v, want no verdict on an interrupted check", err)
			}
		})
	}
}
