package downloader

import (
	"os"
	"sync"
	"testing"
)

// TestWritebackDuringTransfer checks that the part is handed to the disk in
// consecutive chunks while it arrives, starting at the resume point, and
// that a file resumed past the first chunk still ends whole, with the
// SHA-256 of the whole file.
func TestWritebackDuringTransfer(t *testing.T) {
	const size = 2*writebackChunk + 1000
	data := content(size, 21)
	tests := []struct {
		name string
		cut  int64 // the first answer is cut after this many bytes; 0: none
		// wantFrom: where the writeback of the attempt that completes the
		// file starts
		wantFrom int64
	}{
		{name: "one go", wantFrom: 0},
		{name: "resumed", cut: writebackChunk/2 + 12345, wantFrom: writebackChunk/2 + 12345},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var ranges [][2]int64
			var files []*os.File // the part's descriptor, one per attempt
			d := newTest(t, Config{})
			d.rangeMin = 0 // one stream: ranges hand their own spans to the disk
			d.writeback = func(f *os.File, off, n int64) {
				mu.Lock()
				ranges = append(ranges, [2]int64{off, n})
				files = append(files, f)
				mu.Unlock()
				startWriteback(f, off, n)
			}

			s := newFakeService(t)
			f := &fakeFile{data: data}
			if tt.cut > 0 {
				f.cutAfter = cutFirst(1, tt.cut)
			}
			e := entry(s.add("/f.bin", f), "f.bin")
			r := run(t, d, e)[0]
			if r.Status != Downloaded {
				t.Fatalf("Status = %s (%v), want downloaded", r.Status, r.Err)
			}
			checkFile(t, r.Path, data)
			if r.SHA256 != sha(data) {
				t.Errorf("SHA256 = %s, want %s (the whole file's)", r.SHA256, sha(data))
			}
			mu.Lock()
			defer mu.Unlock()
			// The ranges of the last attempt: from the resume point, each
			// following the one before, each at least a chunk, none past
			// the end.
			i := len(ranges)
			for i > 0 && files[i-1] == files[len(files)-1] {
				i--
			}
			last := ranges[i:]
			if len(last) == 0 || last[0][0] != tt.wantFrom {
				t.Fatalf("writeback ranges %v: want the last attempt's to start at %d", ranges, tt.wantFrom)
			}
			end := tt.wantFrom
			for _, rg := range last {
				if rg[0] != end || rg[1] < writebackChunk {
					t.Errorf("writeback ranges %v: range %v does not follow %d or is under %d bytes", ranges, rg, end, writebackChunk)
				}
				end = rg[0] + rg[1]
			}
			if end > size || size-end >= writebackChunk {
				t.Errorf("writeback ranges %v end at %d: want within the last %d bytes of %d", ranges, end, writebackChunk, size)
			}
		})
	}
}
