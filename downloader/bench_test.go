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

// BenchmarkDownload fetches 16 files from a loopback server with 4 workers,
// verifying and publishing each, into a fresh folder per iteration. It
// reports throughput (MB/s), allocations, and bytes allocated per file: the
// same for 4 MiB and 64 MiB files, since the body streams through fixed
// buffers (the server's own allocations are included).
func BenchmarkDownload(b *testing.B) {
	for _, size := range []int{4 << 20, 64 << 20} {
		b.Run(strconv.Itoa(size>>20)+"MiB", func(b *testing.B) { benchmarkDownload(b, 16, size) })
	}
}

func benchmarkDownload(b *testing.B, files, size int) {
	s := newFakeService(b)
	data := content(size, 99)
	var entries []manifest.Entry
	for i := range files {
		name := "f" + strconv.Itoa(i) + ".bin"
		entries = append(entries, entry(s.add("/"+name, &fakeFile{data: data}), name))
	}
	b.SetBytes(int64(files * size))
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
		os.RemoveAll(dir) // keep the disk use to one iteration
		b.StartTimer()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N*files), "allocB/file")
}
