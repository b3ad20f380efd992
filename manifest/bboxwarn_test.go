package manifest_test

import (
	"strings"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// TestBBoxWarnings: a box with west east of east that spans more than 180°
// of longitude gets a warning naming its width; a box reaching beyond the
// grid's latitudes gets one warning that it is clipped (or selects
// nothing); a narrow box across the antimeridian and an ordinary box get
// none.
func TestBBoxWarnings(t *testing.T) {
	tests := []struct {
		spec, want string
	}{
		{"10,0,-10,1", "bbox 10,0,-10,1: west 10 is east of east -10, so the box crosses the antimeridian and spans 340° of longitude; if you meant the 20° between them, give --bbox -10,0,10,1"},
		{"6.5,50.5,3.0,52", "bbox 6.5,50.5,3.0,52: west 6.5 is east of east 3, so the box crosses the antimeridian and spans 356.5° of longitude; if you meant the 3.5° between them, give --bbox 3.0,50.5,6.5,52"},
		{"179,0,-179,1", ""},    // 2° across the antimeridian: meant
		{"90,0,-90,1", ""},      // exactly 180°
		{"3.0,50.5,6.5,52", ""}, // an ordinary box
		{"x,0,1,1", ""},         // not a box: ParseBBox tells
		{"175,0,190,1", ""},     // beyond 180: 15° across the antimeridian
		{"-180,-90,180,90", "bbox -180,-90,180,90 reaches beyond the WorldCover grid, which runs from latitude -60 to 84 (tile rows S60 to N81): its parts beyond it are left out"},
		{"0,85,1,90", "bbox 0,85,1,90 reaches beyond the WorldCover grid, which runs from latitude -60 to 84 (tile rows S60 to N81): it selects no tile"},
		{"-180,-60,180,84", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(manifest.BBoxWarnings(tt.spec), "\n"); got != tt.want {
			t.Errorf("BBoxWarnings(%q) = %q, want %q", tt.spec, got, tt.want)
		}
	}
}
