package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// writeFile writes body to name in a fresh folder and returns its path.
func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

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

// gridFile writes the simulator's stand-in grid to a file.
func gridFile(t *testing.T) string {
	return writeFile(t, "esa_worldcover_grid.geojson", string(terrascopetest.GridGeoJSON()))
}

// With the grid, a box over land and ocean asks only for the land tiles:
// no request ends in 404.
func TestRunGridSkipsOcean(t *testing.T) {
	svc := newServices(t, terrascopetest.WithLandMask(true))
	rep := filepath.Join(t.TempDir(), "report.json")
	// Ten cells around Fiji, across the antimeridian: rows S21 and S18,
	// columns E174 to W174. The stand-in mask has land in two of them.
	box := "174.5,-19.5,-171.5,-16.5"
	res := runWCDL(t, t.Context(), creds(), "", nil, svc.args("--bbox", box, "--grid", gridFile(t), "-o", t.TempDir(), "--report", rep)...)
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
	r := readReport(t, rep)
	var got []string
	for _, e := range r.Entries {
		got = append(got, strings.Split(e.Entry, "_")[5])
	}
	slices.Sort(got)
	if want := []string{"S18E177", "S18W180"}; !slices.Equal(got, want) || r.Summary.Downloaded != 2 {
		t.Fatalf("planned %v (%d downloaded), want only the land tiles %v downloaded", got, r.Summary.Downloaded, want)
	}
	if n := svc.ts.Stats().ByStatus[404]; n != 0 {
		t.Errorf("%d requests ended in 404, want none", n)
	}
	if r.Options.Grid == "" {
		t.Error("the report's options do not name the grid")
	}

	// Without the grid the same box probes every cell.
	svc2 := newServices(t, terrascopetest.WithLandMask(true))
	res = runWCDL(t, t.Context(), creds(), "", nil, svc2.args("--bbox", box, "-o", t.TempDir())...)
	if res.code != exitOK {
		t.Fatalf("without --grid: exit %d, stderr:\n%s", res.code, res.stderr)
	}
	if n := svc2.ts.Stats().ByStatus[404]; n != 8 {
		t.Errorf("without --grid: %d requests ended in 404, want the 8 ocean cells of the box", n)
	}
}

func TestRunGridUnlistedEntries(t *testing.T) {
	const ocean = "S30W132"
	for _, strict := range []bool{false, true} {
		t.Run(map[bool]string{false: "warning", true: "strict"}[strict], func(t *testing.T) {
			svc := newServices(t)
			args := svc.args("-m", writeManifest(t, "N00E006", ocean), "--grid", gridFile(t), "-o", t.TempDir())
			if strict {
				args = append(args, "--strict")
			}
			res := runWCDL(t, t.Context(), creds(), "", nil, args...)
			msg := "tiles.txt:2: tile " + ocean + " is not in the grid"
			if !strings.Contains(res.stderr, msg) {
				t.Errorf("stderr does not say %q:\n%s", msg, res.stderr)
			}
			switch {
			case strict && (res.code != exitUsage || svc.ts.Stats().Requests != 0):
				t.Errorf("--strict: exit %d after %d requests, want %d before any", res.code, svc.ts.Stats().Requests, exitUsage)
			case !strict && res.code != exitOK:
				t.Errorf("without --strict: exit %d, want %d (a warning only); stderr:\n%s", res.code, exitOK, res.stderr)
			}
		})
	}
}

// A grid URL is fetched without a token and cached with its validator:
// the next run asks conditionally and gets 304.
func TestRunGridURLIsCached(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HOME", cache)
	svc := newServices(t, terrascopetest.WithLandMask(true))
	aoi := writeFile(t, "u.geojson", uShape)
	for run := 1; run <= 2; run++ {
		res := runWCDL(t, t.Context(), map[string]string{}, "", nil, "--dry-run", "--aoi", aoi, "--grid", svc.ts.GridURL()+"?sig=s3cr3t", "--base-url", svc.ts.URL())
		if res.code != exitOK {
			t.Fatalf("run %d: exit %d, stderr:\n%s", run, res.code, res.stderr)
		}
		if got := strings.Count(res.stdout, "\n"); got != 7 {
			t.Errorf("run %d: %d planned entries, want the 7 of the U (all land in the stand-in grid)", run, got)
		}
		if strings.Contains(res.stdout+res.stderr, "s3cr3t") {
			t.Errorf("run %d: the grid URL's query appears in the output", run)
		}
	}
	st := svc.ts.Stats()
	if st.AuthorizationSeen != 0 || st.ByStatus[200] != 1 || st.ByStatus[304] != 1 {
		t.Fatalf("grid requests: %d with a token, %d answered 200, %d answered 304; want none, 1 and 1", st.AuthorizationSeen, st.ByStatus[200], st.ByStatus[304])
	}
	files, _ := filepath.Glob(filepath.Join(cache, "wcdl", "grid-*"))
	if len(files) != 2 {
		t.Errorf("cache holds %v, want the grid and its validators", files)
	}
}
