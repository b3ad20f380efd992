package manifest_test

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/wcdl/wcdl/manifest"
)

// encodeUTF16 encodes s as UTF-16 in the byte order asked, with or without
// a byte order mark.
func encodeUTF16(s string, bigEndian, bom bool) string {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	var b []byte
	for _, u := range units {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

// TestParseUTF16: a UTF-16 manifest, with or without a byte order mark, is
// named as such in one error with the file's name, not as a line of
// garbage per entry.
func TestParseUTF16(t *testing.T) {
	const text = "N00E006\nN03E009\n"
	tests := []struct {
		name      string
		bigEndian bool
		bom       bool
		want      string
	}{
		{"little endian with BOM", false, true, "UTF-16LE"},
		{"little endian without BOM", false, false, "UTF-16LE"},
		{"big endian with BOM", true, true, "UTF-16BE"},
		{"big endian without BOM", true, false, "UTF-16BE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, err := manifest.Parse(strings.NewReader(encodeUTF16(text, tt.bigEndian, tt.bom)), "tiles.txt", manifest.Options{})
			if err == nil || len(entries) != 0 {
				t.Fatalf("got %d entries, error %v; want an error", len(entries), err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "tiles.txt: the manifest is "+tt.want+" text; save it as UTF-8") || strings.Count(msg, "\n") != 0 {
				t.Errorf("error %q, want one line naming tiles.txt as %s", msg, tt.want)
			}
		})
	}
	// UTF-8 with its BOM stays accepted.
	if entries, err := manifest.Parse(strings.NewReader("\uFEFF"+text), "tiles.txt", manifest.Options{}); err != nil || len(entries) != 2 {
		t.Errorf("UTF-8 with a BOM: %d entries, %v; want 2, nil", len(entries), err)
	}
}
