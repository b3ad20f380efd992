package manifest_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

func TestPlanWriteGeoJSON(t *testing.T) {
	opts := manifest.Options{Years: []int{2020, 2021}}
	es, err := manifest.Parse(strings.NewReader("S15W048\nhttps://example.com/other/readme.txt\n"), "m.txt", opts)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := manifest.NewPlan(es)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	skipped, err := plan.WriteGeoJSON(&buf)
	if err != nil || skipped != 1 {
		t.Fatalf("WriteGeoJSON: skipped %d, %v; want 1 (the URL), nil", skipped, err)
	}
	var fc struct {
		Type     string
		Features []struct {
			Type     string
			Geometry struct {
				Type        string
				Coordinates [][][2]float64
			}
			Properties struct {
				LLTile   string   `json:"ll_tile"`
				Products []string `json:"products"`
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &fc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.Bytes())
	}
	if fc.Type != "FeatureCollection" || len(fc.Features) != 1 {
		t.Fatalf("got %s with %d features, want a FeatureCollection of 1:\n%s", fc.Type, len(fc.Features), buf.Bytes())
	}
	f := fc.Features[0]
	wantRing := [][2]float64{{-48, -15}, {-45, -15}, {-45, -12}, {-48, -12}, {-48, -15}}
	wantProducts := []string{"ESA_WorldCover_10m_2020_v100_S15W048_Map.tif", "ESA_WorldCover_10m_2021_v200_S15W048_Map.tif"}
	if f.Geometry.Type != "Polygon" || !slices.Equal(f.Geometry.Coordinates[0], wantRing) ||
		f.Properties.LLTile != "S15W048" || !slices.Equal(f.Properties.Products, wantProducts) {
		t.Errorf("feature = %+v, want the Polygon %v of S15W048 with products %v", f, wantRing, wantProducts)
	}
}
