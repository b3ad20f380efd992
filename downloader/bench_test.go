package downloader

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// BenchmarkDownload fetches 16 files of 64 MiB from a loopback server with 4
// workers, verifying and publishing each, into a fresh folder per iteration.
// It reports throughput (MB/s), allocations, and bytes allocated per MiB
// downloaded, which stays flat whatever the file size (the server's own
// allocations are included).
func BenchmarkDownload(b *testing.B) {
	const files, size = 16, 64 << 20
	s := newFakeService(b)
	data := content(size, 99)
	var entries []manifest.Entry
	for i := range files {
		name := "f" + strconv.Itoa(i) + ".bin"
		entries = append(entries, entry(s.add("/"+name, &fakeFile{data: data}), name))
	}
	b.SetBytes(files * size)
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dir := filepath.Join(b.TempDir(), strconv.Itoa(i))
		d, err := New(Config{Dir: dir, Workers: 4})
		if err != nil {
			b.Fatal(err)
		}
		res, err := d.Run(context.Background(), entries)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Status != Downloaded {
				b.Fatalf("%s: %s (%v)", r.Entry.Name, r.Status, r.Err)
			}
		}
		b.StopTimer()
		os.RemoveAll(dir) // keep the disk use of one iteration
		b.StartTimer()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	mib := float64(b.N) * files * size / (1 << 20)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/mib, "allocB/MiB")
}
