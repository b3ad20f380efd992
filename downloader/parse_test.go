package downloader

import (
	"testing"
	"time"
)

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in                 string
		first, last, total int64
		ok                 bool
	}{
		{"bytes 0-99/100", 0, 99, 100, true},
		{"bytes 500-999/1000", 500, 999, 1000, true},
		{"bytes 500-999/*", 0, 0, 0, false},
		{"bytes */1000", 0, 0, 0, false},
		{"bytes 10-5/100", 0, 0, 0, false},
		{"bytes 0-100/100", 0, 0, 0, false},
		{"items 0-1/2", 0, 0, 0, false},
		{"bytes -1-5/10", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, l, n, ok := parseContentRange(tt.in)
			if f != tt.first || l != tt.last || n != tt.total || ok != tt.ok {
				t.Errorf("got %d %d %d %v, want %d %d %d %v", f, l, n, ok, tt.first, tt.last, tt.total, tt.ok)
			}
		})
	}
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes */1", "bytes 1-0/2", "bytes 9223372036854775806-9223372036854775806/9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		first, last, total, ok := parseContentRange(s)
		if ok && (first < 0 || last < first || total <= last) {
			t.Errorf("%q: accepted %d-%d/%d", s, first, last, total)
		}
	})
}

func TestLooksLikePage(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"<!DOCTYPE html><html>", true},
		{"\ufeff  <html lang=en>", true},
		{"\n<HEAD><title>x</title>", true},
		{`{"error":"invalid_token"}`, true},
		{"[{\"a\":1}]", true},
		{"{ }", true},
		{"II*\x00\x08\x00\x00\x00", false},
		{"MM\x00*", false},
		{"{\x00\x01binary", false},
		{"<\x00\x13", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := looksLikePage([]byte(tt.in)); got != tt.want {
			t.Errorf("looksLikePage(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "-1", "Sun, 22 Nov 2026 20:00:00 GMT", "soon", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 22, 20, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := retryAfter(s, now); ok && (d < 0 || d > 100*365*24*time.Hour) {
			t.Errorf("retryAfter(%q) = %v", s, d)
		}
	})
}
