package manifest_test

import (
	"strings"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// tileIDs returns the tile ids of entries, in order.
func tileIDs(es []manifest.Entry) []string {
	var ids []string
	for _, e := range es {
		// ESA_WorldCover_10m_2021_v200_N00E006_Map.tif
		parts := strings.Split(e.Name, "_")
		ids = append(ids, parts[5])
	}
	return ids
}

func TestParseBBox(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want []string
	}{
		{"one tile exactly", "0,0,3,3", []string{"N00E000"}},
		{"inside one tile", "6.5,0.5,7,1", []string{"N00E006"}},
		{"equator straddled", "6.5,-1,7,1", []string{"S03E006", "N00E006"}},
		{"prime meridian straddled", "-1,50,1,51", []string{"N48W003", "N48E000"}},
		{"edges only touch", "3,3,6,6", []string{"N03E003"}},
		{"two by two", "1,1,4,4", []string{"N00E000", "N00E003", "N03E000", "N03E003"}},
		{"point", "7,1,7,1", []string{"N00E006"}},
		{"point on a corner goes north-east", "0,0,0,0", []string{"N00E000"}},
		{"point on a negative corner", "-3,-3,-3,-3", []string{"S03W003"}},
		{"zero-width line", "3,1,3,5", []string{"N00E003", "N03E003"}},
		{"zero-height line", "1,3,5,3", []string{"N03E000", "N03E003"}},
		{"southern limit", "10,-60,11,-59", []string{"S60E009"}},
		{"southern limit point", "10,-60,10,-60", []string{"S60E009"}},
		{"northern limit", "10,83,11,84", []string{"N81E009"}},
		{"northern limit point", "10,84,10,84", []string{"N81E009"}},
		{"antimeridian crossing", "179,10,-179,11", []string{"N09E177", "N09W180"}},
		{"antimeridian crossing wide", "175,10,-175,11", []string{"N09E174", "N09E177", "N09W180", "N09W177"}},
		{"antimeridian edges", "-180,10,-179,11", []string{"N09W180"}},
		{"east edge", "179,10,180,11", []string{"N09E177"}},
		{"point on the antimeridian", "180,10,180,10", []string{"N09W180"}},
		{"spaces", " 0 , 0 , 3 , 3 ", []string{"N00E000"}},
		// As areas of interest: longitudes beyond 180 continue across the
		// antimeridian, and latitudes beyond the grid are clipped.
		{"east beyond 180", "175,10,190,11", []string{"N09E174", "N09E177", "N09W180", "N09W177", "N09W174", "N09W171"}},
		{"west below -180", "-185,10,-179,11", []string{"N09E174", "N09E177", "N09W180"}},
		{"both beyond 180", "181,10,184,11", []string{"N09W180", "N09W177"}},
		{"south clipped", "10,-90,11,-56", []string{"S60E009", "S57E009"}},
		{"north clipped", "10,80,11,90", []string{"N78E009", "N81E009"}},
		{"beyond the north edge", "10,85,11,90", nil},
		{"touching the north edge", "10,84,11,90", nil},
		{"touching the south edge", "10,-90,11,-60", nil},
		{"point beyond the grid", "10,88,10,88", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := manifest.ParseBBox(tt.spec, manifest.Options{})
			if err != nil {
				t.Fatalf("ParseBBox(%q): %v", tt.spec, err)
			}
			if ids := tileIDs(got); !equal(ids, tt.want) {
				t.Errorf("ParseBBox(%q) = %v, want %v", tt.spec, ids, tt.want)
			}
			for _, e := range got {
				if !e.MayBeMissing || e.Source.BBox != strings.TrimSpace(tt.spec) || e.Source.File != "" || e.Size != -1 {
					t.Errorf("entry %+v: want MayBeMissing, Source.BBox %q, Size -1", e, tt.spec)
				}
				if e.Raw+".tif" != e.Name || !strings.HasSuffix(e.URL, "/"+e.Name) {
					t.Errorf("entry %+v: want Raw = product name, URL ending in Name", e)
				}
			}
		})
	}
}

// TestParseBBoxWholeGrid: the grid, the globe (clipped to the grid, as the
// same polygon given with --aoi is) and every box 360° wide select all 5760
// tiles once.
func TestParseBBoxWholeGrid(t *testing.T) {
	for _, spec := range []string{"-180,-60,180,84", "-180,-90,180,90", "0,-90,360,90", "-360,-70,0,85"} {
		got, err := manifest.ParseBBox(spec, manifest.Options{})
		if err != nil {
			t.Fatalf("ParseBBox(%q): %v", spec, err)
		}
		// 48 rows (S60..N81) × 120 columns (W180..E177).
		if len(got) != 48*120 {
			t.Errorf("ParseBBox(%q): got %d tiles, want %d", spec, len(got), 48*120)
		}
		if _, err := manifest.NewPlan(got); err != nil {
			t.Errorf("NewPlan of ParseBBox(%q): %v", spec, err)
		}
	}
}

func TestParseBBoxExpansion(t *testing.T) {
	got, err := manifest.ParseBBox("6.5,0.5,7,1", manifest.Options{Years: []int{2020, 2021}, Layers: []string{"Map", "InputQuality"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{url2020Map, url2020IQ, url2021Map, url2021IQ}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].URL != want[i] {
			t.Errorf("entry %d: got %s, want %s", i, got[i].URL, want[i])
		}
	}
}

func TestParseBBoxErrors(t *testing.T) {
	tests := []struct {
		spec string
		want string
	}{
		{"", "four comma-separated numbers"},
		{"1,2,3", "four comma-separated numbers"},
		{"1,2,3,4,5", "four comma-separated numbers"},
		{"a,0,1,1", `west "a" is not a number`},
		{"0,0,1,NaN", `north "NaN" is not a number`},
		{"0,Inf,1,1", `south "Inf" is not a number`},
		{"-361,0,1,1", "west -361 is outside -360..360"},
		{"0,0,360.5,1", "east 360.5 is outside -360..360"},
		{"0,-91,1,1", "south -91 is not a latitude: want -90..90"},
		{"0,0,1,90.5", "north 90.5 is not a latitude"},
		{"0,5,1,1", "south 5 is north of north 1"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := manifest.ParseBBox(tt.spec, manifest.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, %v; want error containing %q", got, err, tt.want)
			}
		})
	}
}
