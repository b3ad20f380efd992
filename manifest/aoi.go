package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// maxAOILon bounds the longitudes an area of interest may use: beyond ±180
// (up to ±360) they continue across the antimeridian.
const maxAOILon = 360

// ParseAOI reads an area of interest, GeoJSON in WGS 84 longitude and
// latitude, from r, and returns the entries for every WorldCover tile whose
// 3-degree cell it intersects, expanded by opts.Years × opts.Layers, in the
// order of ParseBBox. name is the file name used in messages and in each
// entry's Source.AOI ("-" for standard input).
//
// The input is a Geometry, a Feature or a FeatureCollection. Polygon and
// MultiPolygon select the cells they overlap with positive area (holes
// excluded; a cell the polygon only touches along its edge or at a corner
// is left out). Point, MultiPoint, LineString and MultiLineString select the
// cells holding them, a point on a grid line belonging, as in ParseBBox, to
// the cell north or east of it. GeometryCollection selects what its members
// select. A geometry crossing the antimeridian may be split in two, as RFC
// 7946 recommends, or use longitudes beyond ±180 (up to ±360): either way it
// selects the cells on both sides.
//
// Bad input (invalid JSON, an unknown or missing geometry, a position
// without two numbers, a latitude outside ±90 or a longitude outside ±360,
// an unclosed or too short ring, a self-intersecting polygon) is an *Error
// naming the file and, in a FeatureCollection, the feature's index and id.
// With opts.Grid set, only tiles the grid lists are returned.
//
// The checks take O(n log n) time in the number of positions, whatever the
// shapes; if ctx ends first, ParseAOI returns ctx.Err().
func ParseAOI(ctx context.Context, r io.Reader, name string, opts Options) ([]Entry, error) {
	opts, err := opts.checked()
	if err != nil {
		return nil, err
	}
	geoms, err := readAOI(ctx, r, name, opts.Warn)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	cov := coverage{limit: coverSlack + coverFactor*positions(geoms)}
	for _, g := range geoms {
		if err := cov.add(ctx, g); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &Error{File: name, Msg: err.Error()}
		}
	}
	return tileEntries(cov.tiles(opts.Grid), opts, Source{AOI: name}), nil
}

// A geoJSON is the part of a GeoJSON object an area of interest uses: a
// FeatureCollection's features, a Feature's geometry, a geometry's
// coordinates or members. It is decoded in one pass; coordinates are decoded
// once more, into orb's types, when their type is known.
type geoJSON struct {
	Type        string            `json:"type"`
	CRS         *geoCRS           `json:"crs"`
	ID          json.RawMessage   `json:"id"`
	Features    []geoJSON         `json:"features"`
	Geometry    *geoJSON          `json:"geometry"`
	Coordinates json.RawMessage   `json:"coordinates"`
	Geometries  []json.RawMessage `json:"geometries"`
}

// readAOI reads and checks the geometries of an area of interest. Features
// without a geometry ("geometry": null, valid in RFC 7946) are skipped,
// with a warning to warn if it is not nil.
func readAOI(ctx context.Context, r io.Reader, name string, warn func(string)) ([]orb.Geometry, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &Error{File: name, Msg: "reading the area of interest: " + err.Error()}
	}
	var top geoJSON
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, jsonError(name, data, err)
	}
	fail := func(where, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if where != "" {
			msg = where + ": " + msg
		}
		return &Error{File: name, Msg: msg}
	}
	if msg := top.CRS.check(); msg != "" {
		return nil, fail("", "%s", msg)
	}
	switch top.Type {
	case "FeatureCollection":
		var (
			geoms []orb.Geometry
			empty []string // features without a geometry, labelled
		)
		for i := range top.Features {
			f := &top.Features[i]
			if f.Type == "Feature" && f.Geometry == nil {
				empty = append(empty, featureLabel(i, f.ID))
				continue
			}
			g, err := readFeature(ctx, f)
			if err != nil {
				return nil, fail(featureLabel(i, f.ID), "%v", err)
			}
			geoms = append(geoms, g)
		}
		switch {
		case len(top.Features) == 0:
			return nil, fail("", "the FeatureCollection has no features")
		case len(geoms) == 0:
			return nil, fail("", "none of the FeatureCollection's %d features has a geometry (all are null)", len(top.Features))
		case len(empty) > 0 && warn != nil:
			warn(skippedFeatures(name, empty))
		}
		return geoms, nil
	case "Feature":
		g, err := readFeature(ctx, &top)
		if err != nil {
			return nil, fail(featureLabel(-1, top.ID), "%v", err)
		}
		return []orb.Geometry{g}, nil
	case "":
		return nil, fail("", "not GeoJSON: no \"type\" member")
	}
	g, err := readGeometry(ctx, &top)
	if err != nil {
		return nil, fail("", "%v", err)
	}
	return []orb.Geometry{g}, nil
}

// featureLabel names a feature for a message: feature 3 (id "x"), with
// no index if i < 0. A string id is shown as the string it holds, a number
// as the number.
func featureLabel(i int, id json.RawMessage) string {
	label := "feature"
	if i >= 0 {
		label += " " + strconv.Itoa(i)
	}
	if len(id) > 0 && string(id) != "null" {
		var s string
		if json.Unmarshal(id, &s) != nil {
			s = string(id)
		}
		label += " (id " + quote(s) + ")"
	}
	return label
}

// skippedFeatures is the one warning about the features of file name
// that have no geometry, labelled: the first few are named.
func skippedFeatures(name string, labels []string) string {
	const named = 3
	if len(labels) == 1 {
		return fmt.Sprintf("aoi %s: %s has no geometry (null) and is skipped", name, labels[0])
	}
	list := strings.Join(labels[:min(len(labels), named)], ", ")
	if len(labels) > named {
		list += fmt.Sprintf(" and %d more", len(labels)-named)
	}
	return fmt.Sprintf("aoi %s: %d features have no geometry (null) and are skipped: %s", name, len(labels), list)
}

// readFeature reads and checks the geometry of a Feature.
func readFeature(ctx context.Context, f *geoJSON) (orb.Geometry, error) {
	if f.Type != "Feature" {
		return nil, fmt.Errorf("type %s, want Feature", quote(f.Type))
	}
	if f.Geometry == nil {
		return nil, errors.New("the feature has no geometry")
	}
	return readGeometry(ctx, f.Geometry)
}

// aoiTypes are the geometry types an area of interest may use, each with
// the nesting depth of its coordinates and a decoder into orb's type.
var aoiTypes = map[string]struct {
	depth  int
	decode func([]byte) (orb.Geometry, error)
}{
	"Point":           {1, decodeAs[orb.Point]},
	"MultiPoint":      {2, decodeAs[orb.MultiPoint]},
	"LineString":      {2, decodeAs[orb.LineString]},
	"MultiLineString": {3, decodeAs[orb.MultiLineString]},
	"Polygon":         {3, decodeAs[orb.Polygon]},
	"MultiPolygon":    {4, decodeAs[orb.MultiPolygon]},
}

func decodeAs[G orb.Geometry](data []byte) (orb.Geometry, error) {
	var g G
	err := json.Unmarshal(data, &g)
	return g, err
}

// readGeometry reads and checks one GeoJSON geometry.
func readGeometry(ctx context.Context, h *geoJSON) (orb.Geometry, error) {
	if h.Type == "GeometryCollection" {
		var c orb.Collection
		for i, m := range h.Geometries {
			var mh geoJSON
			if err := json.Unmarshal(m, &mh); err != nil {
				return nil, fmt.Errorf("GeometryCollection member %d is not a GeoJSON geometry", i)
			}
			g, err := readGeometry(ctx, &mh)
			if err != nil {
				return nil, fmt.Errorf("GeometryCollection member %d: %w", i, err)
			}
			c = append(c, g)
		}
		if len(c) == 0 {
			return nil, errors.New("empty GeometryCollection")
		}
		return c, nil
	}
	kind, ok := aoiTypes[h.Type]
	if !ok {
		return nil, fmt.Errorf("geometry type %s is not supported: use Polygon, MultiPolygon, Point, MultiPoint, LineString or MultiLineString", quote(h.Type))
	}
	if err := checkNesting(h.Coordinates, kind.depth); err != nil {
		return nil, fmt.Errorf("%s: %w", h.Type, err)
	}
	g, err := kind.decode(h.Coordinates)
	if err != nil {
		return nil, fmt.Errorf("%s: coordinates: %v", h.Type, err)
	}
	if err := checkRange(g); err != nil {
		return nil, fmt.Errorf("%s: %w", h.Type, err)
	}
	if err := checkGeometry(ctx, g); err != nil {
		return nil, fmt.Errorf("%s: %w", h.Type, err)
	}
	return g, nil
}

// checkNesting checks that coordinates, valid JSON, nest depth arrays deep
// with numbers only in the innermost ones, two or three to a position (so
// that a position with one number is not read as latitude 0). It scans the
// bytes: a country's outline holds hundreds of thousands of numbers.
func checkNesting(coords []byte, depth int) error {
	if len(coords) == 0 || string(coords) == "null" {
		return errors.New("no coordinates")
	}
	level, commas, number, pos := 0, 0, false, 0
	for _, c := range coords {
		switch {
		case c == '[':
			level++
			if level > depth {
				return fmt.Errorf("coordinates nest deeper than %d arrays", depth)
			}
			commas, number = 0, false
		case c == ']':
			if level == depth {
				n := 0
				if number {
					n = commas + 1
				}
				if n < 2 || n > 3 {
					return fmt.Errorf("position %d has %d numbers, want longitude, latitude and at most an altitude", pos, n)
				}
				pos++
			}
			level--
		case c == ',':
			if level == depth {
				commas++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' || ('0' <= c && c <= '9'):
			if level != depth {
				return fmt.Errorf("coordinates must nest %d arrays deep, with numbers in the innermost", depth)
			}
			number = true
		default:
			return errors.New("coordinates must be nested arrays of numbers")
		}
	}
	if level != 0 {
		return errors.New("coordinates must be nested arrays of numbers")
	}
	if pos == 0 {
		return errors.New("no positions")
	}
	return nil
}

// checkRange checks that every position has a latitude within ±90 and a
// longitude within ±360 (beyond ±180 only to cross the antimeridian).
func checkRange(g orb.Geometry) error {
	i := 0
	var bad orb.Point
	found := false
	visit := func(ps []orb.Point) {
		for _, p := range ps {
			if !found && (p[0] < -maxAOILon || p[0] > maxAOILon || p[1] < -90 || p[1] > 90) {
				bad, found = p, true
				return
			}
			if !found {
				i++
			}
		}
	}
	switch g := g.(type) {
	case orb.Point:
		visit([]orb.Point{g})
	case orb.MultiPoint:
		visit(g)
	case orb.LineString:
		visit(g)
	case orb.MultiLineString:
		for _, ls := range g {
			visit(ls)
		}
	case orb.Polygon:
		for _, r := range g {
			visit(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				visit(r)
			}
		}
	}
	if found {
		return fmt.Errorf("position %d [%g, %g] is out of range: longitude must be within ±%d (beyond ±180 only to cross the antimeridian), latitude within ±90", i, bad[0], bad[1], maxAOILon)
	}
	return nil
}

// jsonError turns a JSON decoding error into an *Error with the line and
// column where it happened.
func jsonError(name string, data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var off int64
	switch {
	case errors.As(err, &se):
		off = se.Offset - 1 // the offending byte was the last one read
	case errors.As(err, &te):
		off = te.Offset - 1
		err = fmt.Errorf("member %s has the wrong type: a JSON %s", quote(te.Field), te.Value)
	default:
		return &Error{File: name, Msg: "invalid JSON: " + err.Error()}
	}
	off = max(0, min(off, int64(len(data))))
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return &Error{File: name, Line: line, Msg: fmt.Sprintf("column %d: invalid JSON: %v", col, err)}
}
