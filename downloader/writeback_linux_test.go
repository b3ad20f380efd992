package downloader

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPreallocateKeepsSize checks that preallocating a part reserves its
// blocks but leaves its size, which a resume reads as the bytes received,
// at what was written.
func TestPreallocateKeepsSize(t *testing.T) {
	const written, total = 100 << 10, 4 << 20
	f, err := os.Create(filepath.Join(t.TempDir(), "f.bin.part"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(content(written, 31)); err != nil {
		t.Fatal(err)
	}
	if err := preallocate(f, written, total-written); errors.Is(err, unix.EOPNOTSUPP) {
		t.Skipf("the temporary folder's file system has no fallocate: %v", err)
	} else if err != nil {
		t.Fatalf("preallocate: %v", err)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != written {
		t.Errorf("size after preallocate = %d, want %d (unchanged)", fi.Size(), written)
	}
	if got := fi.Sys().(*syscall.Stat_t).Blocks * 512; got < total {
		t.Errorf("allocated %d bytes, want at least %d", got, total)
	}
}
