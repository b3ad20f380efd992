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
// and at longitude 180, which is the antimeridian, belonging to W180. A box
// with W > E crosses the antimeridian. Latitudes must be within the grid,
// -60 to 84; longitudes within -180 to 180.
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
		if lon < -180 || lon > 180 {
			return nil, fmt.Errorf("bbox %s: %s %g is outside -180..180", quote(spec), names[2*i], lon)
		}
	}
	for i, lat := range []float64{s, n} {
		if lat < minLat || lat > topLat {
			return nil, fmt.Errorf("bbox %s: %s %g is outside the WorldCover grid, which runs from -60 (S60) to 84 (N84)", quote(spec), names[2*i+1], lat)
		}
	}
	if s > n {
		return nil, fmt.Errorf("bbox %s: south %g is north of north %g; the order is W,S,E,N", quote(spec), s, n)
	}

	rows := cells(s, n, minLat, maxLat)
	var cols []int
	if w > e {
		cols = append(cells(w, 180, minLon, maxLon), cells(-180, e, minLon, maxLon)...)
	} else {
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
