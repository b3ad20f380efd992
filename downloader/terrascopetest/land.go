package terrascopetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// The land mask below is a STAND-IN for the real WorldCover grid, coarse
// enough to write by hand: a few boxes of 3-degree cells roughly where the
// continents and some island groups are. It is not geography; it exists so
// that the fake service, like the real one, has no file for most ocean
// cells, and so that a stand-in grid file consistent with it can be served.
// It includes N00E006, S15W048, N45E009 and N51E003 (the quick-start tiles)
// and cells on both sides of the antimeridian (Chukotka and Fiji).
//
// Each box lists the south-west corners of its cells, inclusive, in whole
// degrees, multiples of 3.
var landBoxes = []struct{ lat0, lat1, lon0, lon1 int }{
	{54, 69, -180, -141},   // Chukotka's eastern tip, Alaska
	{54, 69, -141, -60},    // Canada
	{72, 81, -120, -63},    // Arctic archipelago
	{60, 81, -57, -21},     // Greenland
	{63, 63, -24, -15},     // Iceland
	{27, 51, -126, -66},    // United States
	{6, 24, -117, -78},     // Mexico, Central America
	{18, 18, -159, -156},   // Hawaii
	{-57, 9, -81, -36},     // South America
	{36, 69, -12, 42},      // Europe
	{-36, 33, -18, 51},     // Africa
	{39, 75, 42, 177},      // Northern Asia, up to Chukotka
	{6, 36, 42, 120},       // Southern Asia
	{30, 42, 129, 144},     // Japan
	{-9, 3, 96, 150},       // Maritime South-East Asia
	{-45, -12, 111, 153},   // Australia
	{-48, -36, 165, 177},   // New Zealand
	{-18, -18, 177, 177},   // Fiji, west of the antimeridian
	{-18, -18, -180, -180}, // Fiji, east of the antimeridian
}

// The grid: rows from S60 to N81, columns from W180 to E177.
const (
	gridMinLat, gridMaxLat = -60, 81
	gridMinLon, gridMaxLon = -180, 177
)

// IsLand reports whether the stand-in land mask has a file for the
// WorldCover tile whose south-west corner is at lat, lon (whole degrees,
// multiples of 3). Cells outside the grid are not land.
func IsLand(lat, lon int) bool {
	if lat%3 != 0 || lon%3 != 0 || lat < gridMinLat || lat > gridMaxLat || lon < gridMinLon || lon > gridMaxLon {
		return false
	}
	for _, b := range landBoxes {
		if b.lat0 <= lat && lat <= b.lat1 && b.lon0 <= lon && lon <= b.lon1 {
			return true
		}
	}
	return false
}

// LandTiles returns the ids of the stand-in land tiles, such as "N00E006",
// row by row from the south-west.
func LandTiles() []string {
	var ids []string
	for lat := gridMinLat; lat <= gridMaxLat; lat += 3 {
		for lon := gridMinLon; lon <= gridMaxLon; lon += 3 {
			if IsLand(lat, lon) {
				ids = append(ids, tileID(lat, lon))
			}
		}
	}
	return ids
}

// tileID returns the canonical id of a tile, such as "N00E006".
func tileID(lat, lon int) string {
	ns, ew := 'N', 'E'
	if lat < 0 {
		ns, lat = 'S', -lat
	}
	if lon < 0 {
		ew, lon = 'W', -lon
	}
	return fmt.Sprintf("%c%02d%c%03d", ns, lat, ew, lon)
}

// productTile finds the tile of a WorldCover product path, such as
// ".../ESA_WorldCover_10m_2021_v200_N00E006_Map.tif". ok is false for a
// name that is not a WorldCover product.
func productTile(name string) (lat, lon int, ok bool) {
	base := path.Base(name)
	const prefix = "esa_worldcover_10m_"
	if len(base) < len(prefix) || !strings.EqualFold(base[:len(prefix)], prefix) {
		return 0, 0, false
	}
	parts := strings.Split(base[len(prefix):], "_")
	if len(parts) < 3 {
		return 0, 0, false
	}
	id := strings.ToUpper(parts[2])
	if len(id) != 7 || (id[0] != 'N' && id[0] != 'S') || (id[3] != 'E' && id[3] != 'W') {
		return 0, 0, false
	}
	la, err1 := strconv.Atoi(id[1:3])
	lo, err2 := strconv.Atoi(id[4:7])
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	if id[0] == 'S' {
		la = -la
	}
	if id[3] == 'W' {
		lo = -lo
	}
	return la, lo, true
}

// ocean reports whether name is a WorldCover product of a tile the land
// mask does not have.
func ocean(name string) bool {
	lat, lon, ok := productTile(name)
	return ok && !IsLand(lat, lon)
}

// GridPath is the URL path at which a Server serves its stand-in grid.
const GridPath = "/grid/esa_worldcover_grid.geojson"

// GridGeoJSON returns the stand-in of the grid file published with
// WorldCover (esa_worldcover_grid.geojson): a GeoJSON FeatureCollection
// with one 3-degree Polygon per land tile of the stand-in mask, whose
// ll_tile property names the tile.
func GridGeoJSON() []byte {
	gridOnce.Do(func() {
		var b strings.Builder
		b.WriteString(`{"type":"FeatureCollection","features":[`)
		for i, id := range LandTiles() {
			lat, lon, _ := productTile("ESA_WorldCover_10m_2021_v200_" + id + "_Map")
			if i > 0 {
				b.WriteString(",\n")
			}
			fmt.Fprintf(&b, `{"type":"Feature","properties":{"ll_tile":%q},"geometry":{"type":"Polygon","coordinates":[[[%d,%d],[%d,%d],[%d,%d],[%d,%d],[%d,%d]]]}}`,
				id, lon, lat, lon+3, lat, lon+3, lat+3, lon, lat+3, lon, lat)
		}
		b.WriteString("]}\n")
		gridJSON = []byte(b.String())
		sum := sha256.Sum256(gridJSON)
		gridETag = `"` + hex.EncodeToString(sum[:8]) + `"`
	})
	return gridJSON
}

var (
	gridOnce sync.Once
	gridJSON []byte
	gridETag string
)

// serveGrid answers a request for the stand-in grid, like a public bucket:
// no token needed, with an ETag and Last-Modified and answers to
// conditional requests.
func serveGrid(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		errorPage(w, http.StatusMethodNotAllowed)
		return
	}
	body := GridGeoJSON()
	w.Header().Set("Content-Type", "application/geo+json")
	w.Header().Set("ETag", gridETag)
	http.ServeContent(w, r, "", baseModTime, bytes.NewReader(body))
}
