package manifest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseBBox returns the entries for every WorldCover tile that a bounding box
// "W,S,E,N" (decimal degrees) selects, expanded by opts.Years × opts.Layers.
//
// A tile is selected when it and the box overlap with positive area; tiles
// that only touch the box's edge are left out. A box of zero width or height
// selects, in that direction, the tiles holding the line: a point on a grid
// line belongs to the tile north or east of it (so W==E and S==N select the
// one tile holding the point, the one to its north-east if it lies on a grid
// line), except at the grid's north edge 84, which belongs to the N81 row,
// and at longitude 180, which is the antimeridian, belonging to W180. The
// box runs east from W to E: with W > E it crosses the antimeridian, and
// longitudes beyond ±180 (up to ±360, as areas of interest may use)
// continue across it, so 175,S,190,N is 175,S,-170,N; a box 360° wide or
// more holds every longitude. Latitudes must be within ±90; the parts of a
// box beyond the grid (south of -60, north of 84) are left out, and a box
// wholly beyond it selects nothing (BBoxWarnings tells both).
//
// The grid has land tiles only. With opts.Grid, only the tiles it lists are
// returned; without it every grid tile in the box is, and entries have
// MayBeMissing set, so that a missing file means "no
// tile here". Each entry's Source.BBox is spec and its Raw is the product
// name. Entries come row by row from south to north, each row from west to
// east.
func ParseBBox(spec string, opts Options) ([]Entry, error) {
	opts, err := opts.checked()
	if err != nil {
		return nil, err
	}
	spec = strings.TrimSpace(spec)
	parts := strings.Split(spec, ",")
	if len(parts) != 4 {
		return nil, fmt.Errorf("bbox %s: want four comma-separated numbers W,S,E,N, such as 3.0,50.5,6.5,52", quote(spec))
	}
	names := [4]string{"west", "south", "east", "north"}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("bbox %s: %s %s is not a number of degrees", quote(spec), names[i], quote(strings.TrimSpace(p)))
		}
		v[i] = f
	}
	w, s, e, n := v[0], v[1], v[2], v[3]
	for i, lon := range []float64{w, e} {
		if lon < -maxAOILon || lon > maxAOILon {
			return nil, fmt.Errorf("bbox %s: %s %g is outside -%d..%d (beyond ±180 only to cross the antimeridian)", quote(spec), names[2*i], lon, maxAOILon, maxAOILon)
		}
	}
	for i, lat := range []float64{s, n} {
		if lat < -90 || lat > 90 {
			return nil, fmt.Errorf("bbox %s: %s %g is not a latitude: want -90..90", quote(spec), names[2*i+1], lat)
		}
	}
	if s > n {
		return nil, fmt.Errorf("bbox %s: south %g is north of north %g; the order is W,S,E,N", quote(spec), s, n)
	}
	// Latitudes beyond the grid are clipped to it (BBoxWarnings says so),
	// as areas are: a box that only touches the grid there selects nothing.
	if s < n && (n <= minLat || s >= topLat) {
		return nil, nil
	}
	if n < minLat || s > topLat {
		return nil, nil
	}
	rows := cells(max(s, minLat), min(n, topLat), minLat, maxLat)

	var cols []int
	switch w, e, whole := lonSpan(w, e); {
	case whole:
		cols = cells(minLon, -minLon, minLon, maxLon)
	case w > e:
		cols = append(cells(w, 180, minLon, maxLon), cells(-180, e, minLon, maxLon)...)
	default:
		cols = cells(w, e, minLon, maxLon)
	}
	cols = dedup(cols)

	var ts []tile
	for _, lat := range rows {
		for _, lon := range cols {
			if t := (tile{lat, lon}); opts.Grid == nil || opts.Grid.has(t) {
				ts = append(ts, t)
			}
		}
	}
	return tileEntries(ts, opts, Source{BBox: spec}), nil
}

// tileEntries returns the entries of tiles, each expanded by opts.Years ×
// opts.Layers, with src as their source and their product name as Raw. They
// have MayBeMissing set: without a grid, a 404 means "no tile here"; with
// one, a tile it lists may still lack a year.
func tileEntries(ts []tile, opts Options, src Source) []Entry {
	out := make([]Entry, 0, len(ts)*len(opts.Years)*len(opts.Layers))
	var buf []byte
	for _, t := range ts {
		for _, y := range opts.Years {
			for _, l := range opts.Layers {
				pr := product{y, t, l}
				buf = append(buf[:0], opts.BaseURL...)
				buf = append(buf, '/')
				buf = pr.appendPath(buf)
				u := string(buf)
				name := u[strings.LastIndexByte(u, '/')+1:]
				out = append(out, Entry{
					Raw:          name[:len(name)-len(".tif")],
					Source:       src,
					URL:          u,
					Name:         name,
					Size:         -1,
					MayBeMissing: true,
					Product:      name[:len(name)-len(".tif")],
				})
			}
		}
	}
	return out
}

// cells returns the south or west edges of the grid cells, between first and
// last, that overlap [lo, hi] with positive length, or that hold lo if the
// interval is empty (lo == hi).
func cells(lo, hi float64, first, last int) []int {
	from := int(math.Floor(lo/tileStep)) * tileStep
	if from > last {
		if first == minLon {
			from = first // longitude 180 is -180
		} else {
			from = last // latitude 84 is the top of the last row
		}
	}
	from = max(from, first)
	to := from
	if hi > lo {
		to = min((int(math.Ceil(hi/tileStep))-1)*tileStep, last)
	}
	var out []int
	for c := from; c <= to; c += tileStep {
		out = append(out, c)
	}
	return out
}

// dedup removes repeated values from xs, keeping the first of each.
func dedup(xs []int) []int {
	var out []int
	for _, x := range xs {
		dup := false
		for _, y := range out {
			if x == y {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, x)
		}
	}
	return out
}

// lonSpan brings the longitudes of a box's west and east edges within
// -180..180 (180 itself stays, as the east edge of the last column), and
// reports whether the box, running east from w to e, is 360° wide or more.
func lonSpan(w, e float64) (float64, float64, bool) {
	if e-w >= 360 {
		return -180, 180, true
	}
	norm := func(lon float64) float64 {
		switch {
		case lon > 180:
			return lon - 360
		case lon < -180:
			return lon + 360
		}
		return lon
	}
	return norm(w), norm(e), false
}
