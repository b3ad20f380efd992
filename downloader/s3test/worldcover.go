package s3test

import (
	"crypto/sha256"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
	"github.com/wcdl/wcdl/downloader/tiff"
)

// GridKey is where ESA's bucket keeps the WorldCover grid file.
const GridKey = "esa_worldcover_grid.geojson"

// WorldCover returns a Generator with the layout of ESA's WorldCover bucket:
// {version}/{year}/{map|input_quality}/{product}.tif for every product of a
// land tile of terrascopetest's stand-in mask, each a valid TIFF of size
// bytes with pseudo-random content derived from its key, and that mask's
// grid at GridKey.
func WorldCover(size int64) Generator {
	return func(key string) ([]byte, bool) {
		if key == GridKey {
			return terrascopetest.GridGeoJSON(), true
		}
		if !worldCoverKey(key) {
			return nil, false
		}
		head, err := tiff.Header(size)
		if err != nil {
			return nil, false
		}
		body := make([]byte, size)
		seed := sha256.Sum256([]byte(key))
		rand.NewChaCha8(seed).Read(body)
		copy(body, head)
		return body, true
	}
}

// worldCoverKey reports whether key names a product of a land tile in the
// bucket's layout, such as v200/2021/map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif.
func worldCoverKey(key string) bool {
	parts := strings.Split(key, "/")
	if len(parts) != 4 {
		return false
	}
	f := strings.Split(strings.TrimSuffix(parts[3], ".tif"), "_")
	if len(f) != 7 || f[0] != "ESA" || f[3] != parts[1] || f[4] != parts[0] {
		return false
	}
	if !(parts[0] == "v100" && parts[1] == "2020" || parts[0] == "v200" && parts[1] == "2021") {
		return false
	}
	if !(parts[2] == "map" && f[6] == "Map" || parts[2] == "input_quality" && f[6] == "InputQuality") {
		return false
	}
	t := f[5]
	if len(t) != 7 {
		return false
	}
	lat, err1 := strconv.Atoi(t[1:3])
	lon, err2 := strconv.Atoi(t[4:7])
	if err1 != nil || err2 != nil || (t[0] != 'N' && t[0] != 'S') || (t[3] != 'E' && t[3] != 'W') {
		return false
	}
	if t[0] == 'S' {
		lat = -lat
	}
	if t[3] == 'W' {
		lon = -lon
	}
	return terrascopetest.IsLand(lat, lon)
}
