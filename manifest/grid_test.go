package manifest_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

func gridOf(t *testing.T, ids ...string) *manifest.Grid {
	t.Helper()
	var fs []string
	for _, id := range ids {
		fs = append(fs, `{"type":"Feature","properties":{"ll_tile":"`+id+`"},"geometry":null}`)
	}
	g, err := manifest.ParseGrid(strings.NewReader(`{"type":"FeatureCollection","features":[`+strings.Join(fs, ",")+`]}`), "grid.geojson")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestParseGridErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"type":"Feature"}`: `grid.geojson: the grid must be a GeoJSON FeatureCollection, not "Feature"`,
		`{"type":"FeatureCollection","features":[{"properties":{"tile":"N00E006"}}]}`:    "grid.geojson: feature 0 has no ll_tile property",
		`{"type":"FeatureCollection","features":[{"properties":{"ll_tile":"E006N00"}}]}`: "grid.geojson: feature 0: ll_tile: tile id \"E006N00\" is in the wrong order",
		`{"type":"FeatureCollection","features":[]}`:                                     "grid.geojson: the grid lists no tiles",
		`{"type":"FeatureCollection",`:                                                   "grid.geojson:1: column 28: invalid JSON: unexpected end of JSON input",
	} {
		_, err := manifest.ParseGrid(strings.NewReader(in), "grid.geojson")
		var e *manifest.Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseGrid(%s): got %v, want a *manifest.Error saying %q", in, err, want)
		}
	}
}

func TestGridLimitsBBoxAndFindsUnlisted(t *testing.T) {
	g := gridOf(t, "N00E006", "N03E006", "N03E006") // listed twice: counted once
	if g.Len() != 2 || !g.Has("n00e006") || g.Has("N00E003") || g.Has("bogus") {
		t.Fatalf("Len %d, Has(n00e006) %v, Has(N00E003) %v, Has(bogus) %v; want 2, true, false, false",
			g.Len(), g.Has("n00e006"), g.Has("N00E003"), g.Has("bogus"))
	}
	es, err := manifest.ParseBBox("3.5,0.5,8.5,5.5", manifest.Options{Grid: g}) // four cells, two listed
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, strings.Split(e.Raw, "_")[5])
	}
	if want := []string{"N00E006", "N03E006"}; !slices.Equal(got, want) {
		t.Fatalf("bbox with grid planned %v, want %v", got, want)
	}

	m, err := manifest.Parse(strings.NewReader("N00E006\nN00E003\nhttps://example.org/x.tif\nESA_WorldCover_10m_2020_v100_N00E003_Map\n"), "m.txt",
		manifest.Options{Layers: []string{"Map", "InputQuality"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"m.txt:2: tile N00E003 is not in the grid grid.geojson: ESA publishes no file for it",
		"m.txt:4: tile N00E003 is not in the grid grid.geojson: ESA publishes no file for it",
	}
	if got := g.Unlisted(m); !slices.Equal(got, want) {
		t.Fatalf("Unlisted = %q, want %q (one per line, not per layer; URLs unchecked)", got, want)
	}
}
