package source_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/manifest"
	"github.com/wcdl/wcdl/source"
)

func TestURL(t *testing.T) {
	tests := []struct {
		source, product, want string
	}{
		{"aws", "ESA_WorldCover_10m_2021_v200_N00E006_Map", "https://esa-worldcover.s3.eu-central-1.amazonaws.com/v200/2021/map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif"},
		{"aws", "ESA_WorldCover_10m_2020_v100_S15W048_InputQuality", "https://esa-worldcover.s3.eu-central-1.amazonaws.com/v100/2020/input_quality/ESA_WorldCover_10m_2020_v100_S15W048_InputQuality.tif"},
		{"pc", "ESA_WorldCover_10m_2021_v200_N00E006_Map", "https://ai4edataeuwest.blob.core.windows.net/esa-worldcover/v200/2021/map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif"},
		{"pc", "ESA_WorldCover_10m_2020_v100_N51E003_InputQuality", "https://ai4edataeuwest.blob.core.windows.net/esa-worldcover/v100/2020/input_quality/ESA_WorldCover_10m_2020_v100_N51E003_InputQuality.tif"},
		{"terrascope", "ESA_WorldCover_10m_2021_v200_N00E006_Map", "https://services.terrascope.be/download/WORLDCOVER/ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_N00E006_Map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif"},
		{"terrascope", "ESA_WorldCover_10m_2020_v100_N00E006_InputQuality", "https://services.terrascope.be/download/WORLDCOVER/ESA_WORLDCOVER_10M_2020_V100/MAP/ESA_WorldCover_10m_2020_v100_N00E006_Map/ESA_WorldCover_10m_2020_v100_N00E006_InputQuality.tif"},
	}
	for _, tt := range tests {
		t.Run(tt.source+"/"+tt.product, func(t *testing.T) {
			s, err := source.Lookup(tt.source)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.URL(tt.product)
			if err != nil || got != tt.want {
				t.Errorf("URL = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestURLRefusesNonProducts(t *testing.T) {
	for _, name := range []string{"aws", "pc", "terrascope"} {
		s, _ := source.Lookup(name)
		if got, err := s.URL("ESA_WorldCover_10m_2021_v100_N00E006_Map"); err == nil {
			t.Errorf("%s: URL of a product with the wrong version = %q, want an error", name, got)
		}
	}
}

func TestGridURL(t *testing.T) {
	s, _ := source.Lookup("aws")
	if got, want := s.GridURL(), "https://esa-worldcover.s3.eu-central-1.amazonaws.com/esa_worldcover_grid.geojson"; got != want {
		t.Errorf("aws GridURL = %q, want %q", got, want)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		list  string
		roots []string
		want  string // name=root,... ; or the error's text
		err   bool
	}{
		{"default", "terrascope", nil, "terrascope=https://services.terrascope.be/download", false},
		{"order kept", "aws,terrascope", nil, "aws=https://esa-worldcover.s3.eu-central-1.amazonaws.com,terrascope=https://services.terrascope.be/download", false},
		{"spaces and case", " AWS , pc", nil, "aws=https://esa-worldcover.s3.eu-central-1.amazonaws.com,pc=https://ai4edataeuwest.blob.core.windows.net/esa-worldcover", false},
		{"unnamed root is the first source's", "aws,terrascope", []string{"http://127.0.0.1:9000/bucket/"}, "aws=http://127.0.0.1:9000/bucket,terrascope=https://services.terrascope.be/download", false},
		{"named root", "aws,terrascope", []string{"terrascope=http://127.0.0.1:1/download"}, "aws=https://esa-worldcover.s3.eu-central-1.amazonaws.com,terrascope=http://127.0.0.1:1/download", false},
		{"later root wins", "aws", []string{"http://a.example/x", "aws=http://b.example/y"}, "aws=http://b.example/y", false},
		{"unknown source", "gcs", nil, "unknown source", true},
		{"listed twice", "aws,aws", nil, "listed twice", true},
		{"root for a source not listed", "aws", []string{"pc=http://127.0.0.1:1/c"}, "not in the list", true},
		{"root for an unknown source", "aws", []string{"gcs=http://127.0.0.1:1/c"}, "unknown source", true},
		{"root with a query", "aws", []string{"http://127.0.0.1:1/b?sig=secret"}, "no user, query or fragment", true},
		{"root not http", "aws", []string{"ftp://127.0.0.1/b"}, "http(s) URL", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srcs, err := source.Parse(tt.list, tt.roots)
			if tt.err {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want one saying %q", err, tt.want)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q repeats the root's query", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range srcs {
				got = append(got, s.Name+"="+s.Root)
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("got %s, want %s", strings.Join(got, ","), tt.want)
			}
		})
	}
	if _, err := source.Parse("gcs", nil); !errors.Is(err, source.ErrUnknown) {
		t.Errorf("unknown source: error %v, want ErrUnknown", err)
	}
}

func TestAnonymous(t *testing.T) {
	for name, want := range map[string]bool{"aws": true, "pc": false, "terrascope": false} {
		s, _ := source.Lookup(name)
		if got := s.Anonymous(); got != want {
			t.Errorf("%s: Anonymous() = %v, want %v", name, got, want)
		}
	}
}

func TestBind(t *testing.T) {
	entries, err := manifest.Parse(strings.NewReader("N00E006\nhttps://example.org/data/scene.tif\n"), "m.txt", manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := source.Parse("aws,terrascope", []string{"aws=http://127.0.0.1:9/b"})
	if err != nil {
		t.Fatal(err)
	}
	if err := source.Bind(entries, srcs); err != nil {
		t.Fatal(err)
	}
	tile := entries[0]
	wantLocs := []manifest.Location{
		{Source: "aws", URL: "http://127.0.0.1:9/b/v200/2021/map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif"},
		{Source: "terrascope", URL: "https://services.terrascope.be/download/WORLDCOVER/ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_N00E006_Map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif"},
	}
	if len(tile.Locations) != len(wantLocs) || tile.Locations[0] != wantLocs[0] || tile.Locations[1] != wantLocs[1] {
		t.Errorf("tile locations = %v, want %v", tile.Locations, wantLocs)
	}
	if tile.URL != wantLocs[0].URL {
		t.Errorf("tile URL = %q, want the first location %q", tile.URL, wantLocs[0].URL)
	}
	if tile.Name != "ESA_WorldCover_10m_2021_v200_N00E006_Map.tif" {
		t.Errorf("tile name = %q, want the product's file name", tile.Name)
	}
	url := entries[1]
	if url.URL != "https://example.org/data/scene.tif" || url.Locations != nil {
		t.Errorf("absolute URL entry: URL %q, locations %v; want it unchanged and no locations", url.URL, url.Locations)
	}
}
