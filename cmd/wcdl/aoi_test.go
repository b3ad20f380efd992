package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeFile writes body to name in a fresh folder and returns its path.
// A U-shaped area over nine cells: the two cells in its notch are left out.
const uShape = `{"type":"Feature","id":"u","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[9,0],[9,9],[6,9],[6,3],[3,3],[3,9],[0,9],[0,0]]]}}`

func TestRunAOIDryRunGeoJSON(t *testing.T) {
	aoi := writeFile(t, "u.geojson", uShape)
	res := runWCDL(t, t.Context(), map[string]string{}, "", nil, "--dry-run", "--aoi", aoi, "--plan-format", "geojson", "--year", "2020,2021")
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
	var fc struct {
		Type     string
		Features []struct {
			Properties struct {
				LLTile   string   `json:"ll_tile"`
				Products []string `json:"products"`
			}
		}
	}
	if err := json.Unmarshal([]byte(res.stdout), &fc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, res.stdout)
	}
	var ids []string
	for _, f := range fc.Features {
		ids = append(ids, f.Properties.LLTile)
		if len(f.Properties.Products) != 2 {
			t.Errorf("%s: products %v, want the 2020 and 2021 maps", f.Properties.LLTile, f.Properties.Products)
		}
	}
	want := []string{"N00E000", "N00E003", "N00E006", "N03E000", "N03E006", "N06E000", "N06E006"}
	if fc.Type != "FeatureCollection" || !slices.Equal(ids, want) {
		t.Fatalf("planned %s of %v, want a FeatureCollection of %v", fc.Type, ids, want)
	}
}

func TestRunAOIFromStdinDownloads(t *testing.T) {
	svc := newServices(t)
	out := t.TempDir()
	point := `{"type":"Point","coordinates":[-47.5,-14.5]}`
	res := runWCDL(t, t.Context(), creds(), point, nil, svc.args("--aoi", "-", "-o", out)...)
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "ESA_WorldCover_10m_2021_v200_S15W048_Map.tif")); err != nil {
		t.Fatalf("the tile of the point was not downloaded: %v", err)
	}
}

func TestRunAOIBadInput(t *testing.T) {
	bowtie := `{"type":"FeatureCollection","features":[` + uShape + `,{"type":"Feature","id":"bad","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[3,3],[3,0],[0,3],[0,0]]]}}]}`
	tests := []struct {
		name string
		args func(dir string) []string
		want []string
	}{
		{"self-intersecting feature", func(dir string) []string { return []string{"--aoi", writeFile(t, "areas.geojson", bowtie)} },
			[]string{"areas.geojson: feature 1 (id", "bad", "self-intersecting polygon"}},
		{"unreadable file", func(dir string) []string { return []string{"--aoi", filepath.Join(dir, "none.geojson")} },
			[]string{"--aoi: open", "none.geojson"}},
		{"invalid JSON", func(dir string) []string { return []string{"--aoi", writeFile(t, "broken.geojson", "{\n\"type\": }")} },
			[]string{"broken.geojson:2: column 9: invalid JSON"}},
		{"plan format without dry run", func(dir string) []string {
			return []string{"--aoi", writeFile(t, "u.geojson", uShape), "--plan-format", "geojson"}
		}, []string{"--plan-format geojson needs --dry-run"}},
		{"bad plan format", func(dir string) []string {
			return []string{"--aoi", writeFile(t, "u.geojson", uShape), "--dry-run", "--plan-format", "kml"}
		}, []string{"--plan-format must be text or geojson"}},
		{"two inputs on stdin", func(dir string) []string { return []string{"--aoi", "-", "-m", "-"} },
			[]string{"standard input (-) can hold only one"}},
		{"bad grid", func(dir string) []string {
			return []string{"--aoi", writeFile(t, "u.geojson", uShape), "--grid", writeFile(t, "grid.geojson", `{"type":"FeatureCollection","features":[{"properties":{"ll_tile":"N01E000"}}]}`)}
		}, []string{"--grid: ", "grid.geojson: feature 0: ll_tile", "multiple of 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newServices(t)
			res := runWCDL(t, t.Context(), creds(), "", nil, svc.args(append(tt.args(t.TempDir()), "-o", t.TempDir())...)...)
			if res.code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", res.code, exitUsage, res.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, res.stderr)
				}
			}
			if n := svc.ts.Stats().Requests; n != 0 {
				t.Errorf("the download service saw %d requests, want none", n)
			}
		})
	}
}

// TestRunPlanGeoJSONNamesNonTiles: an entry that is not a tile is left out
// of the GeoJSON plan with a warning that counts it in good English.
func TestRunPlanGeoJSONNamesNonTiles(t *testing.T) {
	m := writeManifest(t, "N00E006", "https://example.org/data/scene.tif")
	res := runWCDL(t, t.Context(), map[string]string{}, "", nil, "--dry-run", "-m", m, "--plan-format", "geojson")
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
	if want := "1 entry is not a WorldCover tile: it has no place on the map"; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
	}
}
