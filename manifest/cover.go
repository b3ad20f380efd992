package manifest

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/planar"
)

// Grid cells are indexed by row r (south edge 3r degrees) and column c
// (west edge 3c degrees). Columns outside -60..59 continue across the
// antimeridian and wrap onto the grid.
const (
	nRows = (maxLat-minLat)/tileStep + 1 // 48
	nCols = (maxLon-minLon)/tileStep + 1 // 120
	row0  = minLat / tileStep            // -20, the southernmost row
	rowN  = maxLat / tileStep            // 27, the northernmost row
)

// minArea is the overlap, in square degrees, below which a polygon and a
// cell count as only touching: far below a square metre, far above the
// rounding error of an area computed near its own origin.
const minArea = 1e-12

// A coverage is the set of grid cells a geometry selects.
type coverage struct {
	cells [nRows * nCols]bool
	work  int // positions clipped so far
	limit int // the most positions add may clip; 0 for no limit
}

// Finding the cells a polygon or line covers clips it to smaller and
// smaller boxes. An outline clips each position about once per level of
// that recursion, a dozen times; a shape whose edges all span its box
// clips every edge in every cell, n times the cells. coverFactor and
// coverSlack bound the positions clipped to coverFactor per position of
// the area, and coverSlack more.
const (
	coverFactor = 128
	coverSlack  = 1 << 22
)

// charge counts n positions clipped, and stops the coverage at its limit
// or when ctx ends.
func (cv *coverage) charge(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cv.work += n
	if cv.limit > 0 && cv.work > cv.limit {
		return errTooComplex
	}
	return nil
}

// set selects the cell at row r, column c, if the row is on the grid.
func (cv *coverage) set(r, c int) {
	if r < row0 || r > rowN {
		return
	}
	c = ((c-minLon/tileStep)%nCols + nCols) % nCols
	cv.cells[(r-row0)*nCols+c] = true
}

// tiles returns the selected tiles row by row from south to north, each
// row from west to east, keeping only those grid lists if grid is not nil.
func (cv *coverage) tiles(grid *Grid) []tile {
	var out []tile
	for i, on := range cv.cells {
		if !on {
			continue
		}
		t := tile{lat: (i/nCols + row0) * tileStep, lon: minLon + i%nCols*tileStep}
		if grid == nil || grid.has(t) {
			out = append(out, t)
		}
	}
	return out
}

// cellOf returns the row and column holding a point: a point on a grid line
// belongs to the cell north or east of it, except that latitude 84, the top
// of the grid, belongs to the northernmost row.
func cellOf(p orb.Point) (r, c int) {
	r = int(math.Floor(p[1] / tileStep))
	if p[1] == topLat {
		r = rowN
	}
	return r, int(math.Floor(p[0] / tileStep))
}

// A span is a block of cells: rows r0..r1 and columns c0..c1, inclusive.
type span struct{ r0, r1, c0, c1 int }

func (s span) bound() orb.Bound {
	return orb.Bound{
		Min: orb.Point{float64(s.c0 * tileStep), float64(s.r0 * tileStep)},
		Max: orb.Point{float64((s.c1 + 1) * tileStep), float64((s.r1 + 1) * tileStep)},
	}
}

// halves splits a span of more than one cell across its longer side.
func (s span) halves() (span, span) {
	a, b := s, s
	if s.c1-s.c0 >= s.r1-s.r0 {
		m := s.c0 + (s.c1-s.c0)/2
		a.c1, b.c0 = m, m+1
	} else {
		m := s.r0 + (s.r1-s.r0)/2
		a.r1, b.r0 = m, m+1
	}
	return a, b
}

func (s span) single() bool { return s.r0 == s.r1 && s.c0 == s.c1 }

// spanOf returns the cells that may hold something of a bound, with the
// rows limited to the grid's; ok is false if no row is left.
func spanOf(b orb.Bound) (span, bool) {
	r0, c0 := cellOf(b.Min)
	r1, c1 := cellOf(b.Max)
	s := span{max(r0, row0), min(r1, rowN), c0, c1}
	return s, s.r0 <= s.r1
}

// add selects the cells g covers. It returns ctx.Err() if ctx ends first,
// and an error wrapping errTooComplex, naming the shape, if it would clip
// more than cv.limit positions.
func (cv *coverage) add(ctx context.Context, g orb.Geometry) error {
	var err error
	switch g := g.(type) {
	case orb.Point:
		cv.set(cellOf(g))
	case orb.MultiPoint:
		for _, p := range g {
			cv.set(cellOf(p))
		}
	case orb.LineString:
		err = cv.addLines(ctx, orb.MultiLineString{g})
	case orb.MultiLineString:
		err = cv.addLines(ctx, g)
	case orb.Polygon:
		b := g.Bound()
		if s, ok := spanOf(b); ok {
			err = cv.addPolygon(ctx, s, g, b, false)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			if err := cv.add(ctx, p); err != nil {
				return err
			}
		}
	case orb.Collection:
		for _, m := range g {
			if err := cv.add(ctx, m); err != nil {
				return err
			}
		}
	}
	if errors.Is(err, errTooComplex) {
		return fmt.Errorf("%s: %w: finding the grid cells it covers would clip more than %d positions, %d for each of the area's, as its edges are long and cross many cells; simplify it, or split it into smaller parts",
			describe(g), err, cv.limit, coverFactor)
	}
	return err
}

// describe names a line or polygon for a message by its type, size and
// first position.
func describe(g orb.Geometry) string {
	var first orb.Point
	n := 0
	switch g := g.(type) {
	case orb.LineString:
		first, n = g[0], len(g)
	case orb.MultiLineString:
		first = g[0][0]
		for _, l := range g {
			n += len(l)
		}
	case orb.Polygon:
		first = g[0][0]
		for _, r := range g {
			n += len(r)
		}
	}
	return fmt.Sprintf("the %s of %d positions starting at [%g, %g]", g.GeoJSONType(), n, first[0], first[1])
}

// addPolygon selects the cells of s that p overlaps with positive area.
// It clips p to s and halves s, so each level of the recursion handles
// about as many vertices as p has: a large outline costs its vertex count
// times the depth (about 14), not times the number of cells.
// pb holds p: clipping is skipped when s holds pb. If own is set, p is
// this call's to use as scratch space.
func (cv *coverage) addPolygon(ctx context.Context, s span, p orb.Polygon, pb orb.Bound, own bool) error {
	b := s.bound()
	if !b.Contains(pb.Min) || !b.Contains(pb.Max) {
		n := 0
		for _, r := range p {
			n += len(r)
		}
		if err := cv.charge(ctx, n); err != nil {
			return err
		}
		if !own {
			p = p.Clone() // clip uses its input as scratch space
		}
		p = clip.Polygon(b, p)
		own = true
		if p == nil {
			return nil
		}
		pb = orb.Bound{
			Min: orb.Point{max(b.Min[0], pb.Min[0]), max(b.Min[1], pb.Min[1])},
			Max: orb.Point{min(b.Max[0], pb.Max[0]), min(b.Max[1], pb.Max[1])},
		}
	}
	area := planar.Area(p)
	if area <= minArea {
		return nil
	}
	full := (b.Max[0] - b.Min[0]) * (b.Max[1] - b.Min[1])
	if s.single() || area >= full-minArea {
		for r := s.r0; r <= s.r1; r++ {
			for c := s.c0; c <= s.c1; c++ {
				cv.set(r, c)
			}
		}
		return nil
	}
	a, z := s.halves()
	if err := cv.addPolygon(ctx, a, p, pb, false); err != nil {
		return err
	}
	return cv.addPolygon(ctx, z, p, pb, own) // the last use of p
}

// addLines selects the cells that lines pass through, or touch on their
// south or west edge (the north edge too in the top row).
func (cv *coverage) addLines(ctx context.Context, ml orb.MultiLineString) error {
	b := ml.Bound()
	if s, ok := spanOf(b); ok {
		return cv.addLinesIn(ctx, s, ml, b)
	}
	return nil
}

// addLinesIn is addLines within s; mb holds ml, and clipping is skipped
// when s holds mb.
func (cv *coverage) addLinesIn(ctx context.Context, s span, ml orb.MultiLineString, mb orb.Bound) error {
	b := s.bound()
	if !b.Contains(mb.Min) || !b.Contains(mb.Max) {
		n := 0
		for _, l := range ml {
			n += len(l)
		}
		if err := cv.charge(ctx, n); err != nil {
			return err
		}
		ml = clip.MultiLineString(b, ml)
		if len(ml) == 0 {
			return nil
		}
		mb = ml.Bound()
	}
	if !s.single() {
		a, z := s.halves()
		if err := cv.addLinesIn(ctx, a, ml, mb); err != nil {
			return err
		}
		return cv.addLinesIn(ctx, z, ml, mb)
	}
	if linesInCell(ml, b, s.r0 == rowN) {
		cv.set(s.r0, s.c0)
	}
	return nil
}

// linesInCell reports whether lines lying in the closed cell b belong to
// it: one counts unless it lies along the east edge, or the north edge
// below the top of the grid, which belong to the neighbours.
func linesInCell(ml orb.MultiLineString, b orb.Bound, topRow bool) bool {
	for _, ls := range ml {
		for i := 0; i < len(ls); i++ {
			a, z := ls[i], ls[min(i+1, len(ls)-1)]
			onEast := a[0] == b.Max[0] && z[0] == b.Max[0]
			onNorth := a[1] == b.Max[1] && z[1] == b.Max[1] && !topRow
			if !onEast && !onNorth {
				return true
			}
		}
	}
	return false
}

// positions counts the positions of geometries.
func positions(gs []orb.Geometry) int {
	n := 0
	var count func(g orb.Geometry)
	count = func(g orb.Geometry) {
		switch g := g.(type) {
		case orb.Point:
			n++
		case orb.MultiPoint:
			n += len(g)
		case orb.LineString:
			n += len(g)
		case orb.MultiLineString:
			for _, l := range g {
				n += len(l)
			}
		case orb.Polygon:
			for _, r := range g {
				n += len(r)
			}
		case orb.MultiPolygon:
			for _, p := range g {
				count(p)
			}
		case orb.Collection:
			for _, m := range g {
				count(m)
			}
		}
	}
	for _, g := range gs {
		count(g)
	}
	return n
}
