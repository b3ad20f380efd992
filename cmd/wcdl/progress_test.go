package main

import (
	"slices"
	"testing"
	"time"

	"github.com/wcdl/wcdl/downloader"
	"github.com/wcdl/wcdl/manifest"
)

func TestEstimateTotal(t *testing.T) {
	tests := []struct {
		name string
		p    downloader.Progress
		want int64
	}{
		{"nothing known yet", downloader.Progress{FilesTotal: 10, FilesUnsized: 10}, 0},
		{"three sized of ten, 1 MiB each", downloader.Progress{FilesTotal: 10, FilesSized: 3, FilesUnsized: 7, BytesExpected: 3 << 20}, 10 << 20},
		{"skipped files count for nothing", downloader.Progress{FilesTotal: 10, FilesDone: 5, Skipped: 5, FilesSized: 2, FilesUnsized: 3, BytesExpected: 2 << 20}, 5 << 20},
		{"sizes from the manifest", downloader.Progress{FilesTotal: 3, FilesSized: 3, BytesExpected: 3 << 20}, 3 << 20},
		{"never below what arrived", downloader.Progress{FilesTotal: 2, FilesDone: 2, FilesSized: 2, BytesExpected: 5, BytesDone: 7}, 7},
	}
	for _, tt := range tests {
		if got := estimateTotal(tt.p); got != tt.want {
			t.Errorf("%s: estimateTotal = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestEstimateTotalSteady follows a run of ten 80 MiB files on four
// workers, as the downloader's counters go: files are sized one at a time
// as their answers come, and end. The estimate is the true total from the
// first size on, never 720 or 789 MiB on the way.
func TestEstimateTotalSteady(t *testing.T) {
	const size, files, workers = 80 << 20, 10, 4
	var p downloader.Progress
	p.FilesTotal, p.FilesUnsized = files, files
	step := 0
	check := func(what string) {
		step++
		got := estimateTotal(p)
		if p.FilesSized > 0 && got != files*size {
			t.Errorf("step %d (%s): estimate %d MiB, want %d MiB; progress %+v", step, what, got>>20, files*size>>20, p)
		}
	}
	started := 0
	start := func() { // a worker's first answer names the size
		started++
		p.FilesUnsized--
		p.FilesSized++
		p.BytesExpected += size
		check("a file is sized")
	}
	for range workers {
		start()
	}
	for done := 1; done <= files; done++ {
		p.BytesDone += size
		p.FilesDone++
		check("a file ends")
		if started < files {
			start()
		}
	}
}

// TestTimeLeft: the time left comes from the rate over the last seconds,
// is rounded up and never says 0s while bytes remain; a stall or less than
// a second of samples says nothing rather than a wrong number.
func TestTimeLeft(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	tests := []struct {
		name      string
		samples   []int64 // bytes done, one sample every half second
		remaining int64
		want      string
	}{
		{"steady 1 MiB/s", []int64{0, 512 << 10, 1 << 20, 3 << 19, 2 << 20}, 10 << 20, "10s"},
		{"less than a second left rounds up", []int64{0, 512 << 20, 1 << 30}, 100 << 20, "1s"},
		{"stalled at 40%", append(slices.Repeat([]int64{400}, 25), 400), 600, ""},
		{"too soon to tell", []int64{0, 1 << 20}, 10 << 20, ""},
		{"nothing left", []int64{0, 1 << 20, 2 << 20}, 0, ""},
	}
	for _, tt := range tests {
		var tl timeLeft
		for i, b := range tt.samples {
			tl.add(at(float64(i)/2), b)
		}
		if got := tl.estimate(tt.remaining); got != tt.want {
			t.Errorf("%s: estimate = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	tests := map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"}
	for n, want := range tests {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestResultLineMissing: a missing tile is described by where it was
// planned from: a box, or an area.
func TestResultLineMissing(t *testing.T) {
	const name = "ESA_WorldCover_10m_2021_v200_S30W132_Map.tif"
	tests := []struct {
		src  manifest.Source
		want string
	}{
		{manifest.Source{BBox: "-131.5,-29.5,-131,-29"}, "missing " + name + " (the service has no such file; allowed for tiles from a box)"},
		{manifest.Source{AOI: "pacific.geojson"}, "missing " + name + " (the service has no such file; allowed for tiles from an area)"},
	}
	for _, tt := range tests {
		r := downloader.Result{Entry: manifest.Entry{Name: name, Source: tt.src, MayBeMissing: true}, Status: downloader.Missing}
		if got := resultLine(r); got != tt.want {
			t.Errorf("resultLine from %v = %q, want %q", tt.src, got, tt.want)
		}
	}
}
