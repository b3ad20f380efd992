package terrascopetest

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

func productURL(s *Server, id string) string {
	stem := "ESA_WorldCover_10m_2021_v200_" + id + "_Map"
	return s.URL() + "/WORLDCOVER/ESA_WORLDCOVER_10M_2021_V200/MAP/" + stem + "/" + stem + ".tif"
}

func TestLandMask(t *testing.T) {
	// The quick-start tiles are land; the middle of the Pacific is not.
	for _, id := range []string{"N00E006", "S15W048", "N45E009", "N51E003"} {
		if !slices.Contains(LandTiles(), id) {
			t.Errorf("LandTiles lacks quick-start tile %s", id)
		}
	}
	const ocean = "S30W132" // south Pacific
	if slices.Contains(LandTiles(), ocean) || IsLand(-30, -132) {
		t.Fatalf("%s is land in the stand-in mask, want ocean", ocean)
	}
	for _, c := range []struct{ lat, lon int }{{1, 6}, {0, 7}, {-63, 0}, {84, 0}, {0, 180}, {0, -183}} {
		if IsLand(c.lat, c.lon) {
			t.Errorf("IsLand(%d, %d) = true for a cell that is not on the grid", c.lat, c.lon)
		}
	}

	on := newServer(t, nil, WithLandMask(true), WithFileSize(1000))
	off := newServer(t, nil, WithFileSize(1000))
	for _, c := range []struct {
		s    *Server
		u    string
		want int
	}{
		{on, productURL(on, "N00E006"), 200},
		{on, productURL(on, ocean), 404},
		{on, on.URL() + "/other/" + ocean + ".bin", 200}, // not a WorldCover product
		{off, productURL(off, ocean), 200},
	} {
		resp, _, err := do(t, nil, "GET", c.u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.want {
			t.Errorf("GET %s: status %d, want %d", c.u, resp.StatusCode, c.want)
		}
	}
}

func TestGrid(t *testing.T) {
	s := newServer(t, newTokens("good"), WithLandMask(true))
	resp, body, err := do(t, nil, "GET", s.GridURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET grid without a token: status %d, want 200", resp.StatusCode)
	}
	var fc struct {
		Type     string
		Features []struct {
			Properties struct {
				LLTile string `json:"ll_tile"`
			}
			Geometry struct {
				Type        string
				Coordinates [][][2]float64
			}
		}
	}
	if err := json.Unmarshal(body, &fc); err != nil {
		t.Fatalf("grid is not JSON: %v", err)
	}
	var ids []string
	for _, f := range fc.Features {
		ids = append(ids, f.Properties.LLTile)
		ring := f.Geometry.Coordinates[0]
		lat, lon, _ := productTile("ESA_WorldCover_10m_2021_v200_" + f.Properties.LLTile + "_Map")
		want := [][2]float64{{float64(lon), float64(lat)}, {float64(lon + 3), float64(lat)}, {float64(lon + 3), float64(lat + 3)}, {float64(lon), float64(lat + 3)}, {float64(lon), float64(lat)}}
		if f.Geometry.Type != "Polygon" || !slices.Equal(ring, want) {
			t.Fatalf("feature %s: geometry %s %v, want the Polygon %v", f.Properties.LLTile, f.Geometry.Type, ring, want)
		}
	}
	if fc.Type != "FeatureCollection" || !slices.Equal(ids, LandTiles()) {
		t.Fatalf("grid: type %q with %d tiles, want a FeatureCollection of the %d land tiles", fc.Type, len(ids), len(LandTiles()))
	}

	// A conditional GET with the validator gets 304.
	resp, _, err = do(t, nil, "GET", s.GridURL(), map[string]string{"If-None-Match": resp.Header.Get("ETag")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional GET of the grid: status %d, want 304", resp.StatusCode)
	}
	// The first and last grid tiles are served.
	for _, id := range []string{ids[0], ids[len(ids)-1]} {
		resp, _, _ := do(t, nil, "GET", productURL(s, id), map[string]string{"Authorization": "Bearer good"})
		if resp.StatusCode != 200 {
			t.Errorf("grid tile %s: status %d, want 200", id, resp.StatusCode)
		}
	}
}
