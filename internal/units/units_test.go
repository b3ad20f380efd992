package units

import "testing"

// TestParseBytes: sizes and rates as people type them. K, M, G and T are
// powers of 1024 however they are spelt; 0 means none.
func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true},
		{"0", 0, true},
		{"1000", 1000, true},
		{"500K", 500 << 10, true},
		{"500k", 500 << 10, true},
		{"500KiB", 500 << 10, true},
		{"20M", 20 << 20, true},
		{"20MB", 20 << 20, true},
		{"20MiB", 20 << 20, true},
		{"20mib", 20 << 20, true},
		{"1.5G", 3 << 29, true},
		{"1.5GB", 3 << 29, true},
		{"2T", 2 << 40, true},
		{"2TiB", 2 << 40, true},
		{"64B", 64, true},
		{"fast", 0, false},
		{"-1M", 0, false},
		{"0.1", 0, false},
		{"20Mi B", 0, false},
		{"2048P", 0, false},
		{"i", 0, false},
		{"NaN", 0, false},
	}
	for _, tt := range tests {
		got, err := Rate(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Rate(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
