package manifest_test

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// tileManifest returns a manifest of n tile-id lines, cycling over the grid.
func tileManifest(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 8)
	lat, lon := -60, -180
	for i := 0; i < n; i++ {
		ns, ew := 'N', 'E'
		la, lo := lat, lon
		if la < 0 {
			ns, la = 'S', -la
		}
		if lo < 0 {
			ew, lo = 'W', -lo
		}
		fmt.Fprintf(&b, "%c%02d%c%03d\n", ns, la, ew, lo)
		if lon += 3; lon > 177 {
			lon = -180
			if lat += 3; lat > 81 {
				lat = -60
			}
		}
	}
	return b.Bytes()
}

// BenchmarkParse parses a manifest of 1,000,000 tile ids, one entry each.
func BenchmarkParse(b *testing.B) {
	const lines = 1_000_000
	data := tileManifest(lines)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		es, err := manifest.Parse(bytes.NewReader(data), "bench.txt", manifest.Options{})
		if err != nil || len(es) != lines {
			b.Fatalf("got %d entries, %v", len(es), err)
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(lines*b.N), "B/entry")
}

// BenchmarkNewPlan builds a plan of 1,000,000 distinct URLs.
func BenchmarkNewPlan(b *testing.B) {
	const n = 1_000_000
	es := make([]manifest.Entry, n)
	for i := range es {
		name := fmt.Sprintf("f%07d.tif", i)
		es[i] = manifest.Entry{URL: "https://h/" + name, Name: name, Size: -1}
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := manifest.NewPlan(es)
		if err != nil || len(p.Entries) != n {
			b.Fatalf("got %v", err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
