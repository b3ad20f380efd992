package manifest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/wcdl/wcdl/manifest"
)

func poly(rings ...string) string {
	return `{"type":"Polygon","coordinates":[` + strings.Join(rings, ",") + `]}`
}

func TestParseAOIErrors(t *testing.T) {
	square := `[[0,0],[3,0],[3,3],[0,3],[0,0]]`
	tests := []struct {
		name, in string
		want     []string // parts of the message
		line     int
	}{
		{"invalid JSON", "{\n  \"type\": \"Polygon\",\n  \"coordinates\": [[[0,0],]]\n}", []string{"column 26", "invalid JSON"}, 3},
		{"not GeoJSON", `{"hello": 1}`, []string{`no "type"`}, 0},
		{"features not an array", "{\"type\": \"FeatureCollection\",\n\"features\": {}}", []string{`column 13: invalid JSON: member "features" has the wrong type: a JSON object`}, 2},
		{"unknown type", `{"type":"Circle","coordinates":[0,0]}`, []string{`"Circle" is not supported`}, 0},
		{"feature without geometry", `{"type":"Feature","id":"lake","geometry":null}`,
			[]string{`feature (id "lake")`, "no geometry"}, 0},
		{"no feature with a geometry", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null}]}`,
			[]string{"none of the FeatureCollection's 1 features has a geometry"}, 0},
		{"Web Mercator", `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3857"}},"features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[500000,6000000]}}]}`,
			[]string{`the "crs" member names EPSG:3857`, "WGS 84 longitude/latitude", "ogr2ogr -t_srs EPSG:4326"}, 0},
		{"EPSG short form", `{"type":"Point","crs":{"type":"name","properties":{"name":"EPSG:32631"}},"coordinates":[500000,6000000]}`,
			[]string{"names EPSG:32631", "reproject"}, 0},
		{"empty collection", `{"type":"FeatureCollection","features":[]}`, []string{"no features"}, 0},
		{"latitude out of range", `{"type":"Point","coordinates":[10,91]}`, []string{"Point", "[10, 91] is out of range"}, 0},
		{"longitude out of range", `{"type":"LineString","coordinates":[[0,0],[361,0]]}`, []string{"position 1", "out of range"}, 0},
		{"position of one number", `{"type":"Point","coordinates":[10]}`, []string{"position 0 has 1 numbers, want longitude, latitude"}, 0},
		{"wrong nesting", `{"type":"Polygon","coordinates":[[0,0],[1,1]]}`, []string{"nest 3 arrays deep"}, 0},
		{"short line", `{"type":"LineString","coordinates":[[0,0]]}`, []string{"two positions or more"}, 0},
		{"unclosed ring", poly(`[[0,0],[3,0],[3,3],[0,3]]`), []string{"ring 0 is not closed"}, 0},
		{"short ring", poly(`[[0,0],[3,0],[0,0]]`), []string{"ring 0 has 3 positions"}, 0},
		{"bow tie", `{"type":"Feature","id":7,"geometry":` + poly(`[[0,0],[3,3],[3,0],[0,3],[0,0]]`) + `}`,
			[]string{"feature (id \"7\")", "self-intersecting polygon: ring 0 crosses itself near [1.5, 1.5]"}, 0},
		{"figure eight through a vertex", poly(`[[0,0],[2,0],[1,1],[2,2],[0,2],[1,1],[0,0]]`), []string{"ring 0 crosses itself near [1, 1]"}, 0},
		{"spike", poly(`[[0,0],[3,0],[3,3],[3,1],[3,2],[0,3],[0,0]]`), []string{"ring 0 crosses itself"}, 0},
		{"hole crossing the exterior", poly(square, `[[1,1],[4,1],[4,2],[1,2],[1,1]]`), []string{"rings 0 and 1 cross"}, 0},
		{"in a MultiPolygon", `{"type":"MultiPolygon","coordinates":[[` + square + `],[[[0,0],[3,3],[3,0],[0,3],[0,0]]]]}`, []string{"MultiPolygon: polygon 1: self-intersecting"}, 0},
		{"in a GeometryCollection", `{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[0,95]}]}`, []string{"GeometryCollection member 0: Point"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := manifest.ParseAOI(context.Background(), strings.NewReader(tt.in), "area.geojson", manifest.Options{})
			var e *manifest.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%d entries), want a *manifest.Error", err, len(es))
			}
			if e.File != "area.geojson" || e.Line != tt.line || es != nil {
				t.Errorf("error %q at %s:%d with %d entries; want area.geojson:%d and no entries", err, e.File, e.Line, len(es), tt.line)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestParseAOIUnreadable(t *testing.T) {
	_, err := manifest.ParseAOI(context.Background(), iotest.ErrReader(errors.New("disk on fire")), "area.geojson", manifest.Options{})
	if err == nil || !strings.Contains(err.Error(), "area.geojson: reading the area of interest: disk on fire") {
		t.Fatalf("got %v, want the read error with the file name", err)
	}
}

// Shapes GeoJSON allows: rings touching at a point, repeated positions,
// a third coordinate, a hole touching the exterior.
func TestParseAOIValidShapes(t *testing.T) {
	for name, in := range map[string]string{
		"hole touching the exterior at a point": poly(`[[0,0],[6,0],[6,6],[0,6],[0,0]]`, `[[0,3],[2,2],[2,4],[0,3]]`),
		"repeated positions":                    poly(`[[0,0],[3,0],[3,0],[3,3],[0,3],[0,0],[0,0]]`),
		"altitude":                              `{"type":"Point","coordinates":[1,1,250.5]}`,
		"clockwise exterior":                    poly(`[[0,0],[0,3],[3,3],[3,0],[0,0]]`),
	} {
		t.Run(name, func(t *testing.T) {
			es, err := manifest.ParseAOI(context.Background(), strings.NewReader(in), "a.geojson", manifest.Options{})
			if err != nil || len(es) == 0 {
				t.Fatalf("got %d entries, %v; want entries and no error", len(es), err)
			}
		})
	}
}

// TestParseAOIAsGISExports: GeoJSON as GDAL and QGIS write it. Features
// without a geometry (valid in RFC 7946) are skipped with one warning that
// names them; a crs member naming WGS 84 longitude/latitude is accepted.
func TestParseAOIAsGISExports(t *testing.T) {
	feature := func(id, geom string) string {
		return `{"type":"Feature","id":` + id + `,"properties":{},"geometry":` + geom + `}`
	}
	point := `{"type":"Point","coordinates":[1,1]}`
	crs := func(name string) string { return `"crs":{"type":"name","properties":{"name":"` + name + `"}},` }
	tests := []struct {
		name, in string
		warn     []string
	}{
		{"one null geometry", `{"type":"FeatureCollection","features":[` + feature(`"lake"`, "null") + `,` + feature("2", point) + `]}`,
			[]string{`aoi area.geojson: feature 0 (id "lake") has no geometry (null) and is skipped`}},
		{"many null geometries", `{"type":"FeatureCollection","features":[` + feature("1", "null") + `,` + feature("2", "null") + `,` + feature(`"c"`, "null") + `,` + feature("4", "null") + `,` + feature("5", point) + `]}`,
			[]string{`aoi area.geojson: 4 features have no geometry (null) and are skipped: feature 0 (id "1"), feature 1 (id "2"), feature 2 (id "c") and 1 more`}},
		{"CRS84", `{"type":"FeatureCollection",` + crs("urn:ogc:def:crs:OGC:1.3:CRS84") + `"features":[` + feature("1", point) + `]}`, nil},
		{"EPSG:4326", `{"type":"FeatureCollection",` + crs("EPSG:4326") + `"features":[` + feature("1", point) + `]}`, nil},
		{"EPSG URN 4326", `{"type":"FeatureCollection",` + crs("urn:ogc:def:crs:EPSG::4326") + `"features":[` + feature("1", point) + `]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warned []string
			es, err := manifest.ParseAOI(context.Background(), strings.NewReader(tt.in), "area.geojson", manifest.Options{Warn: func(m string) { warned = append(warned, m) }})
			if err != nil || len(es) != 1 {
				t.Fatalf("got %d entries, %v; want the one tile of the point", len(es), err)
			}
			if !equal(warned, tt.warn) {
				t.Errorf("warnings %q, want %q", warned, tt.warn)
			}
		})
	}
}
