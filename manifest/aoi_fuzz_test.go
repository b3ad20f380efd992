package manifest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// FuzzParseAOI checks that ParseAOI never panics, reports problems only as
// an *Error naming the file, and plans each tile at most once, as a plan
// accepts.
func FuzzParseAOI(f *testing.F) {
	inputs, err := filepath.Glob(filepath.Join(aoiDir, "*", "input.geojson"))
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add(poly(`[[0,0],[3,3],[3,0],[0,3],[0,0]]`))
	f.Add(`{"type":"MultiPoint","coordinates":[[180,84],[-180,-60],[360,-90]]}`)
	f.Add(`{"type":"GeometryCollection","geometries":[{"type":"LineString","coordinates":[[-200,10],[200,10]]}]}`)

	f.Fuzz(func(t *testing.T, data string) {
		es, err := manifest.ParseAOI(context.Background(), strings.NewReader(data), "f.geojson", manifest.Options{})
		if err != nil {
			var e *manifest.Error
			if !errors.As(err, &e) || e.File != "f.geojson" {
				t.Fatalf("error %q is not a *manifest.Error naming f.geojson", err)
			}
			if es != nil {
				t.Fatalf("%d entries with an error", len(es))
			}
			return
		}
		if len(es) > 48*120 {
			t.Fatalf("%d entries, more than the grid's 5760 tiles", len(es))
		}
		p, err := manifest.NewPlan(es)
		if err != nil {
			t.Fatalf("NewPlan: %v", err)
		}
		if len(p.Warnings) > 0 {
			t.Fatalf("a tile planned twice: %v", p.Warnings)
		}
	})
}
