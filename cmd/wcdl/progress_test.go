package main

import (
	"testing"

	"github.com/wcdl/wcdl/downloader"
	"github.com/wcdl/wcdl/manifest"
)

func TestEstimateTotal(t *testing.T) {
	tests := []struct {
		name    string
		p       downloader.Progress
		workers int
		want    int64
	}{
		{"nothing known yet", downloader.Progress{FilesTotal: 10}, 4, 0},
		{"four started of ten, 1 MiB each", downloader.Progress{FilesTotal: 10, BytesExpected: 4 << 20}, 4, 10 << 20},
		{"all started", downloader.Progress{FilesTotal: 3, FilesDone: 1, BytesExpected: 3 << 20}, 4, 3 << 20},
		{"never below what arrived", downloader.Progress{FilesTotal: 2, FilesDone: 2, BytesExpected: 5, BytesDone: 7}, 4, 7},
	}
	for _, tt := range tests {
		if got := estimateTotal(tt.p, tt.workers); got != tt.want {
			t.Errorf("%s: estimateTotal = %d, want %d", tt.name, got, tt.want)
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
