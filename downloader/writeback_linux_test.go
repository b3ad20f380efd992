package downloader

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPreallocateKeepsSize checks that preallocating a part reserves its
// blocks but leaves its size, which a resume reads as the bytes received,
// and its bytes as they were, also when the reservation fails.
func TestPreallocateKeepsSize(t *testing.T) {
	const written = 100 << 10
	tests := []struct {
		name      string
		total     int64
		wantErr   bool
		wantAlloc int64 // at least this many bytes allocated
	}{
		{name: "reserved", total: 4 << 20, wantAlloc: 4 << 20},
		{name: "too large for the file system", total: 1 << 62, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.bin.part")
			data := content(written, 31)
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Write(data); err != nil {
				t.Fatal(err)
			}
			err = preallocate(f, written, tt.total-written)
			if errors.Is(err, unix.EOPNOTSUPP) {
				t.Skipf("the temporary folder's file system has no fallocate: %v", err)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("preallocate error = %v, want an error: %v", err, tt.wantErr)
			}
			fi, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() != written {
				t.Errorf("size after preallocate = %d, want %d (unchanged)", fi.Size(), written)
			}
			if got := fi.Sys().(*syscall.Stat_t).Blocks * 512; got < tt.wantAlloc {
				t.Errorf("allocated %d bytes, want at least %d", got, tt.wantAlloc)
			}
			if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, data) {
				t.Errorf("part after preallocate: %d bytes, %v; want the %d bytes written", len(got), err, written)
			}
		})
	}
}
