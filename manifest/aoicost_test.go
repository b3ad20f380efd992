package manifest

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// spanningJSON is a GeoJSON Polygon: closed(spanning(n, ...)).
func spanningJSON(n int, x0, y0, w, h float64) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"Polygon","coordinates":[[`)
	for i, p := range closed(spanning(n, x0, y0, w, h)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("[" + strconv.FormatFloat(p[0], 'g', -1, 64) + "," + strconv.FormatFloat(p[1], 'g', -1, 64) + "]")
	}
	b.WriteString(`]]}`)
	return b.Bytes()
}

// TestParseAOIStopsWithContext checks that a cancelled context ends
// ParseAOI with its error, before it checks or plans a large polygon.
func TestParseAOIStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, g := range map[string]orb.Geometry{
		"validity": orb.Polygon{closed(spanning(50_000, 0, 0, 20, 20))},
	} {
		t.Run(name, func(t *testing.T) {
			if err := checkGeometry(ctx, g); !errors.Is(err, context.Canceled) {
				t.Fatalf("checkGeometry: got %v, want context.Canceled", err)
			}
			var cv coverage
			if err := cv.add(ctx, g); !errors.Is(err, context.Canceled) || cv.work > 0 {
				t.Fatalf("coverage: got %v after clipping %d positions, want context.Canceled before any", err, cv.work)
			}
		})
	}
	_, err := ParseAOI(ctx, bytes.NewReader(spanningJSON(50_000, 0, 0, 20, 20)), "big.geojson", Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ParseAOI: got %v, want context.Canceled", err)
	}
}

// TestCoverageWorkIsBounded checks polygons and lines whose edges span
// their box: one of a few cells is planned, one spanning the globe is
// refused with a message naming it, having clipped no more positions than
// its limit allows (it used to clip every edge in each of 4,674 cells).
func TestCoverageWorkIsBounded(t *testing.T) {
	const n = 20_000
	zigzag := func(x0, y0, w, h float64) orb.LineString { return orb.LineString(spanning(n, x0, y0, w, h)) }
	tests := []struct {
		name  string
		g     orb.Geometry
		tiles int    // for a plan
		want  string // for an error
	}{
		{name: "polygon over 7 by 7 cells", g: orb.Polygon{closed(spanning(n, 0, 36, 20, 20))}, tiles: 49},
		{name: "polygon over the globe", g: orb.Polygon{closed(spanning(n, -170, -50, 340, 120))},
			want: "the Polygon of 20001 positions starting at [-166.6, -50]: too complex to plan"},
		{name: "line over the globe", g: zigzag(-170, -50, 340, 120),
			want: "the LineString of 20000 positions starting at [-166.6, -50]: too complex to plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cv := coverage{limit: coverSlack + coverFactor*positions([]orb.Geometry{tt.g})}
			err := cv.add(context.Background(), tt.g)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("add: %v", err)
			case tt.want == "" && len(cv.tiles(nil)) != tt.tiles:
				t.Fatalf("add: got %d tiles, want %d", len(cv.tiles(nil)), tt.tiles)
			case tt.want != "" && (!errors.Is(err, errTooComplex) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("add: got %v, want errTooComplex saying %q", err, tt.want)
			}
			// The last clip charged may hold every position once more.
			if limit := cv.limit + n + 1; cv.work > limit {
				t.Fatalf("add clipped %d positions, want at most %d", cv.work, limit)
			}
		})
	}
}
