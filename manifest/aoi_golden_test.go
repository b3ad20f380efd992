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

// aoiDir holds one folder per area-of-interest case: input.geojson, an
// optional grid.geojson, a README saying what the case shows, and
// want.txt, the planned tile ids one per line (or the error).
const aoiDir = "testdata/aoi"

func TestAOIGolden(t *testing.T) {
	dirs, err := os.ReadDir(aoiDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		dir := filepath.Join(aoiDir, d.Name())
		t.Run(d.Name(), func(t *testing.T) {
			var opts manifest.Options
			if g, err := os.Open(filepath.Join(dir, "grid.geojson")); err == nil {
				opts.Grid, err = manifest.ParseGrid(g, "grid.geojson")
				g.Close()
				if err != nil {
					t.Fatal(err)
				}
			} else if !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			f, err := os.Open(filepath.Join(dir, "input.geojson"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			entries, err := manifest.ParseAOI(context.Background(), f, "input.geojson", opts)
			var got strings.Builder
			if err != nil {
				got.WriteString("error: " + err.Error() + "\n")
			}
			for _, e := range entries {
				if e.Source.String() != "aoi input.geojson" || !e.MayBeMissing {
					t.Errorf("%s: source %q, MayBeMissing %v; want aoi input.geojson, true", e.Name, e.Source, e.MayBeMissing)
				}
				got.WriteString(strings.Split(e.Raw, "_")[5] + "\n")
			}
			wantFile := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(wantFile, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (run go test -run TestAOIGolden -update to create it)", err)
			}
			if got.String() != string(want) {
				t.Errorf("plan differs from %s:\ngot:\n%s\nwant:\n%s", wantFile, got.String(), want)
			}
		})
	}
}
