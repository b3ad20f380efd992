package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// gridFile returns a grid file of n features, a few to a line, with
// properties and geometry as in ESA's.
func gridFile(n int) []byte {
	var b bytes.Buffer
	b.WriteString("{\n  \"type\": \"FeatureCollection\",\n  \"name\": \"esa_worldcover_grid\",\n  \"features\": [\n")
	for i := range n {
		lat, lon := i%48*3-60, i/48%120*3-180
		id := fmt.Sprintf("%c%02d%c%03d", "NS"[btoi(lat < 0)], abs(lat), "EW"[btoi(lon < 0)], abs(lon))
		fmt.Fprintf(&b, `{"type":"Feature","properties":{"ll_tile":%q},"geometry":{"type":"Polygon","coordinates":[[[%d,%d],[%d,%d],[%d,%d],[%d,%d],[%d,%d]]]}}`,
			id, lon, lat, lon+3, lat, lon+3, lat+3, lon, lat+3, lon, lat)
		if i < n-1 {
			b.WriteByte(',')
		}
		if i%3 == 2 {
			b.WriteString("\n")
		}
	}
	b.WriteString("\n  ]\n}\n")
	return b.Bytes()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func abs(v int) int { return max(v, -v) }

// TestParseGridSyntaxErrorsWhereUnmarshalSaysSo checks that the streaming
// ParseGrid reports every syntax error at the line and column, and with
// the message, that decoding the whole file at once gives: for cuts of a
// grid file and for a stray byte put at many places.
func TestParseGridSyntaxErrorsWhereUnmarshalSaysSo(t *testing.T) {
	file := gridFile(400) // 80 KB: far more than the decoder's buffer
	if _, err := ParseGrid(bytes.NewReader(file), "grid.geojson"); err != nil {
		t.Fatalf("ParseGrid of a valid file: %v", err)
	}
	var inputs [][]byte
	for k := 1; k < len(file)-2; k += 1013 {
		inputs = append(inputs, file[:k])
		for _, c := range []byte{'#', ']', '}', ','} {
			bad := bytes.Clone(file)
			bad[k] = c
			inputs = append(inputs, bad)
		}
	}
	inputs = append(inputs, append(bytes.Clone(file), '{'), append(bytes.Clone(file), "x"...))
	checked := 0
	for _, in := range inputs {
		uerr := json.Unmarshal(in, new(json.RawMessage))
		var se *json.SyntaxError
		if !errors.As(uerr, &se) {
			continue // the change left valid JSON
		}
		checked++
		want := jsonError("grid.geojson", in, uerr).Error()
		_, err := ParseGrid(bytes.NewReader(in), "grid.geojson")
		if err == nil || err.Error() != want {
			t.Fatalf("ParseGrid of a %d-byte file: got %v, want %s", len(in), err, want)
		}
	}
	if checked < 150 {
		t.Fatalf("%d syntax errors checked, want more than 150", checked)
	}
}

func TestParseGridReportsWhere(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"wrong type on line 3", "{\"type\": \"FeatureCollection\", \"features\": [\n{\"properties\": {\"ll_tile\": \"N00E006\"}},\n  {\"properties\": {\"ll_tile\": 5}}]}",
			`grid.geojson:3: column 30: invalid JSON: member "features.properties.ll_tile" has the wrong type: a JSON number`},
		{"type not a string", "{\n \"type\": 7}", `grid.geojson:2: column 10: invalid JSON: member "type" has the wrong type: a JSON number`},
		{"top level an array", `[{"type":"FeatureCollection"}]`, "grid.geojson: the grid must be a GeoJSON FeatureCollection, not an array"},
		{"features an object", `{"type":"FeatureCollection","features":{}}`, `grid.geojson: member "features" must be an array, not an object`},
		{"type after the features", `{"features":[{"properties":{"ll_tile":"bogus"}}],"type":"Feature"}`,
			`grid.geojson: the grid must be a GeoJSON FeatureCollection, not "Feature"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseGrid(strings.NewReader(tt.in), "grid.geojson")
			if err == nil || err.Error() != tt.want {
				t.Fatalf("ParseGrid: got %v, want %s", err, tt.want)
			}
		})
	}
}

// TestParseGridMemory checks that reading a grid file allocates a small
// fraction of its size: the file is read as a stream, not held whole and
// decoded into a slice of every feature (ten times its size for features
// with nothing in them).
func TestParseGridMemory(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty features", []byte(`{"type":"FeatureCollection","features":[{"properties":{"ll_tile":"N00E006"}}` + strings.Repeat(",{}", 1<<18) + "]}")},
		{"grid features", gridFile(20_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := ParseGrid(bytes.NewReader(tt.in), "grid.geojson")
			runtime.ReadMemStats(&after)
			if err != nil && !strings.Contains(err.Error(), "no ll_tile") {
				t.Fatal(err)
			}
			got := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes allocated for %d bytes of input", got, len(tt.in))
			if limit := uint64(len(tt.in)); got > limit {
				t.Fatalf("ParseGrid allocated %d bytes for a %d-byte file, want at most %d", got, len(tt.in), limit)
			}
		})
	}
}

// BenchmarkParseGrid reads a grid file of a million empty features and one
// of 20,000 features as ESA writes them, and reports the bytes allocated
// per byte of input.
func BenchmarkParseGrid(b *testing.B) {
	for _, bc := range []struct {
		name string
		in   []byte
	}{
		{"empty-features", []byte(`{"type":"FeatureCollection","features":[{"properties":{"ll_tile":"N00E006"}}` + strings.Repeat(",{}", 1<<20) + "]}")},
		{"grid-features", gridFile(20_000)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				if _, err := ParseGrid(bytes.NewReader(bc.in), "grid.geojson"); err != nil && !strings.Contains(err.Error(), "no ll_tile") {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(len(bc.in)), "alloc/input")
		})
	}
}
