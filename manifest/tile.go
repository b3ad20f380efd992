package manifest

import (
	"errors"
	"strconv"
	"strings"
)

// The WorldCover grid: 3-degree tiles named by their south-west corner, rows
// from S60 to N81 (the last row covers 81..84), columns from W180 to E177.
const (
	tileStep = 3
	minLat   = -60
	maxLat   = 81 // south edge of the northernmost row
	topLat   = 84 // north edge of the grid
	minLon   = -180
	maxLon   = 177 // west edge of the easternmost column
)

// A tile is a WorldCover grid cell, by the latitude and longitude of its
// south-west corner in whole degrees.
type tile struct{ lat, lon int }

// String returns the canonical tile id, such as "N00E006" or "S15W048".
func (t tile) String() string {
	var b [7]byte
	return string(t.appendTo(b[:0]))
}

// appendTo appends the canonical tile id to b.
func (t tile) appendTo(b []byte) []byte {
	lat, lon := t.lat, t.lon
	if lat < 0 {
		b = append(b, 'S')
		lat = -lat
	} else {
		b = append(b, 'N')
	}
	b = append(b, byte('0'+lat/10), byte('0'+lat%10))
	if lon < 0 {
		b = append(b, 'W')
		lon = -lon
	} else {
		b = append(b, 'E')
	}
	return append(b, byte('0'+lon/100), byte('0'+lon/10%10), byte('0'+lon%10))
}

// looksLikeTile reports whether s is meant as a tile id, so that a mistake
// in it gets a tile-specific message.
func looksLikeTile(s string) bool {
	if s == "" || len(s) > 12 || strings.IndexByte("NSEWnsew", s[0]) < 0 {
		return false
	}
	digits := false
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			digits = true
		case strings.IndexByte("NSEWnsew", c) >= 0:
		default:
			return false
		}
	}
	return digits
}

// parseTile parses a tile id such as "N00E006" (any case). On failure it
// returns a message saying what is wrong.
func parseTile(s string) (tile, string) {
	if s == "" {
		return tile{}, "empty tile id"
	}
	up := func(c byte) byte {
		if 'a' <= c && c <= 'z' {
			return c - 'a' + 'A'
		}
		return c
	}
	first := up(s[0])
	if first == 'E' || first == 'W' {
		return tile{}, "tile id " + quote(s) + " is in the wrong order: latitude (N/S) comes first, as in N00E006"
	}
	if first != 'N' && first != 'S' {
		return tile{}, "tile id " + quote(s) + " must start with N or S, as in N00E006"
	}
	i := 1
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	latDigits := s[1:i]
	if i == len(s) || (up(s[i]) != 'E' && up(s[i]) != 'W') {
		return tile{}, "tile id " + quote(s) + " has no E/W longitude after the latitude digits, as in N00E006"
	}
	east := up(s[i]) == 'E'
	lonDigits := s[i+1:]
	for j := 0; j < len(lonDigits); j++ {
		if lonDigits[j] < '0' || lonDigits[j] > '9' {
			return tile{}, "tile id " + quote(s) + ": longitude must be three digits after E/W, as in N00E006"
		}
	}
	if len(latDigits) != 2 {
		return tile{}, "tile id " + quote(s) + ": latitude needs exactly two digits after N/S (N00, S15)"
	}
	if len(lonDigits) != 3 {
		return tile{}, "tile id " + quote(s) + ": longitude needs exactly three digits after E/W (E006, W048)"
	}
	lat, _ := strconv.Atoi(latDigits)
	lon, _ := strconv.Atoi(lonDigits)
	if first == 'S' {
		lat = -lat
	}
	if !east {
		lon = -lon
	}
	switch {
	case lat < minLat || lat > maxLat:
		return tile{}, "tile id " + quote(s) + ": latitude " + s[:3] + " is outside the grid: rows run from S60 to N81"
	case lon < minLon || lon > maxLon:
		return tile{}, "tile id " + quote(s) + ": longitude " + s[i:] + " is outside the grid: columns run from W180 to E177"
	case lat%tileStep != 0:
		return tile{}, "tile id " + quote(s) + ": latitude " + latDigits + " is not a multiple of 3 (tiles are 3 degrees, named by their south-west corner)"
	case lon%tileStep != 0:
		return tile{}, "tile id " + quote(s) + ": longitude " + lonDigits + " is not a multiple of 3 (tiles are 3 degrees, named by their south-west corner)"
	case lat == 0 && first == 'S':
		return tile{}, "tile id " + quote(s) + ": latitude 0 is written N00, not S00"
	case lon == 0 && !east:
		return tile{}, "tile id " + quote(s) + ": longitude 0 is written E000, not W000"
	}
	return tile{lat, lon}, ""
}

// A product is one WorldCover file: a tile in one year and layer.
type product struct {
	year  int
	t     tile
	layer string // canonical
}

// productPrefix starts every WorldCover product name.
const productPrefix = "ESA_WorldCover_10m_"

// parseProduct parses a product name such as
// "ESA_WorldCover_10m_2021_v200_N00E006_Map", with or without ".tif", in any
// case. On failure it returns a message saying what is wrong.
func parseProduct(s string) (product, string) {
	name := s
	if len(name) > 4 && strings.EqualFold(name[len(name)-4:], ".tif") {
		name = name[:len(name)-4]
	}
	const form = "ESA_WorldCover_10m_{2020_v100|2021_v200}_{tile}_{Map|InputQuality}"
	if len(name) < len(productPrefix) || !strings.EqualFold(name[:len(productPrefix)], productPrefix) {
		return product{}, "product name " + quote(s) + " must look like " + form
	}
	parts := strings.Split(name[len(productPrefix):], "_")
	if len(parts) != 4 {
		return product{}, "product name " + quote(s) + " must look like " + form
	}
	year, err := strconv.Atoi(parts[0])
	ver, known := versions[year]
	if err != nil || len(parts[0]) != 4 || !known {
		return product{}, "product name " + quote(s) + ": year " + quote(parts[0]) + " is not a WorldCover year: 2020 (v100) or 2021 (v200)"
	}
	if !strings.EqualFold(parts[1], ver) {
		return product{}, "product name " + quote(s) + ": version " + quote(parts[1]) + " does not match year " + parts[0] + ", which is " + ver
	}
	t, msg := parseTile(parts[2])
	if msg != "" {
		return product{}, "product name " + quote(s) + ": " + msg
	}
	layer := canonicalLayer(parts[3])
	if layer == "" {
		return product{}, "product name " + quote(s) + ": layer " + quote(parts[3]) + " is not Map or InputQuality"
	}
	return product{year, t, layer}, ""
}

// appendFileName appends the product's file name, such as
// "ESA_WorldCover_10m_2021_v200_N00E006_Map.tif".
func (p product) appendFileName(b []byte) []byte {
	b = p.appendStem(b, p.layer)
	return append(b, ".tif"...)
}

// appendStem appends the product name without ".tif", for the given layer.
func (p product) appendStem(b []byte, layer string) []byte {
	b = append(b, productPrefix...)
	b = strconv.AppendInt(b, int64(p.year), 10)
	b = append(b, '_')
	b = append(b, versions[p.year]...)
	b = append(b, '_')
	b = p.t.appendTo(b)
	b = append(b, '_')
	return append(b, layer...)
}

// appendPath appends the product's path under the download service:
// WORLDCOVER/ESA_WORLDCOVER_10M_{YEAR}_V{VER}/MAP/{stem of the Map file}/{file}.
// The InputQuality file lives in the folder of the Map file.
func (p product) appendPath(b []byte) []byte {
	b = append(b, "WORLDCOVER/ESA_WORLDCOVER_10M_"...)
	b = strconv.AppendInt(b, int64(p.year), 10)
	b = append(b, "_V"...)
	b = append(b, versions[p.year][1:]...)
	b = append(b, "/MAP/"...)
	b = p.appendStem(b, "Map")
	b = append(b, '/')
	return p.appendFileName(b)
}

// ProductPath returns the path of the WorldCover product named product
// (as in Entry.Product) under the Terrascope download service, such as
// "WORLDCOVER/ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_N00E006_Map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif",
// or an error if product is not a product name.
func ProductPath(product string) (string, error) {
	pr, msg := parseProduct(product)
	if msg != "" {
		return "", errors.New(msg)
	}
	return string(pr.appendPath(nil)), nil
}

// name returns the product name without ".tif".
func (p product) name() string { return string(p.appendStem(nil, p.layer)) }

// quote quotes s for a message, shortening it if it is long.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}
