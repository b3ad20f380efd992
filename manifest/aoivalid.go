package manifest

import (
	"context"
	"errors"
	"fmt"

	"github.com/paulmach/orb"
)

// checkGeometry checks what GeoJSON requires of a geometry's shape: lines of
// two positions or more, closed rings of four or more, and polygons whose
// rings neither cross themselves nor each other. It returns ctx.Err() if
// ctx ends first.
func checkGeometry(ctx context.Context, g orb.Geometry) error {
	switch g := g.(type) {
	case orb.LineString:
		if len(g) < 2 {
			return errors.New("a LineString needs two positions or more")
		}
	case orb.MultiLineString:
		for i, ls := range g {
			if len(ls) < 2 {
				return fmt.Errorf("line %d: a LineString needs two positions or more", i)
			}
		}
	case orb.Polygon:
		return checkPolygon(ctx, g)
	case orb.MultiPolygon:
		for i, p := range g {
			if err := checkPolygon(ctx, p); err != nil {
				if ctx.Err() != nil {
					return err
				}
				return fmt.Errorf("polygon %d: %w", i, err)
			}
		}
	}
	return nil
}

// checkPolygon checks a polygon's rings.
func checkPolygon(ctx context.Context, p orb.Polygon) error {
	if len(p) == 0 {
		return errors.New("a polygon needs an exterior ring")
	}
	n := 0
	for _, r := range p {
		n += len(r)
	}
	segs := make([]segment, 0, n)
	for i, r := range p {
		if len(r) < 4 {
			return fmt.Errorf("ring %d has %d positions; a ring needs four or more, the last equal to the first", i, len(r))
		}
		if r[0] != r[len(r)-1] {
			return fmt.Errorf("ring %d is not closed: its last position [%g, %g] differs from its first [%g, %g]", i, r[len(r)-1][0], r[len(r)-1][1], r[0][0], r[0][1])
		}
		start := len(segs)
		for j := 1; j < len(r); j++ {
			if r[j] != r[j-1] { // repeated positions are harmless
				segs = append(segs, segment{a: r[j-1], b: r[j], ring: i, index: j - 1, seq: len(segs) - start})
			}
		}
		if len(segs)-start < 3 {
			return fmt.Errorf("ring %d has fewer than three distinct positions", i)
		}
		segs[start].first, segs[len(segs)-1].last = true, true
	}
	a, b, ok, err := crossing(ctx, segs)
	if err != nil {
		return err
	}
	if ok {
		at := crossPoint(a, b)
		if a.ring == b.ring {
			return fmt.Errorf("self-intersecting polygon: ring %d crosses itself near [%g, %g] (edges from positions %d and %d)", a.ring, at[0], at[1], a.index, b.index)
		}
		return fmt.Errorf("self-intersecting polygon: rings %d and %d cross near [%g, %g]", a.ring, b.ring, at[0], at[1])
	}
	return nil
}

// A segment is one edge of a polygon's ring.
type segment struct {
	a, b        orb.Point
	ring, index int  // ring number, index of a in the ring
	seq         int  // the edge's number in its ring, repeated positions skipped
	first, last bool // the ring's first or last edge (which meet)
}

// bad reports whether two edges of a polygon meet where they must not.
func bad(s, t *segment) bool {
	if max(s.a[0], s.b[0]) < min(t.a[0], t.b[0]) || max(t.a[0], t.b[0]) < min(s.a[0], s.b[0]) ||
		max(s.a[1], s.b[1]) < min(t.a[1], t.b[1]) || max(t.a[1], t.b[1]) < min(s.a[1], s.b[1]) {
		return false
	}
	d1, d2 := orient(t.a, t.b, s.a), orient(t.a, t.b, s.b)
	d3, d4 := orient(s.a, s.b, t.a), orient(s.a, s.b, t.b)
	if d1*d2 < 0 && d3*d4 < 0 {
		return true // a proper crossing
	}
	if d1 == 0 && d2 == 0 && overlap(s, t) {
		return true // collinear edges sharing a length
	}
	// Rings may touch at a point, and consecutive edges share a vertex;
	// any other contact within a ring is a self-touch.
	if s.ring != t.ring || adjacent(s, t) {
		return false
	}
	return (d1 == 0 && onSeg(t.a, t.b, s.a)) || (d2 == 0 && onSeg(t.a, t.b, s.b)) ||
		(d3 == 0 && onSeg(s.a, s.b, t.a)) || (d4 == 0 && onSeg(s.a, s.b, t.b))
}

// adjacent reports whether s and t, of one ring, are consecutive edges.
func adjacent(s, t *segment) bool {
	return s.seq-t.seq == 1 || t.seq-s.seq == 1 || (s.first && t.last) || (s.last && t.first)
}

// overlap reports whether collinear segments share more than a point.
func overlap(s, t *segment) bool {
	i := 0
	if s.a[0] == s.b[0] {
		i = 1 // vertical: compare latitudes
	}
	lo := max(min(s.a[i], s.b[i]), min(t.a[i], t.b[i]))
	hi := min(max(s.a[i], s.b[i]), max(t.a[i], t.b[i]))
	return hi > lo
}

// onSeg reports whether p, collinear with a and b, lies between them.
func onSeg(a, b, p orb.Point) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) &&
		min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
}

// crossPoint returns about where two bad segments meet, for a message.
func crossPoint(s, t segment) orb.Point {
	for _, p := range []orb.Point{t.a, t.b} {
		if orient(s.a, s.b, p) == 0 && onSeg(s.a, s.b, p) {
			return p
		}
	}
	for _, p := range []orb.Point{s.a, s.b} {
		if orient(t.a, t.b, p) == 0 && onSeg(t.a, t.b, p) {
			return p
		}
	}
	d := (s.b[0]-s.a[0])*(t.b[1]-t.a[1]) - (s.b[1]-s.a[1])*(t.b[0]-t.a[0])
	if d == 0 {
		return s.a
	}
	u := ((t.a[0]-s.a[0])*(t.b[1]-t.a[1]) - (t.a[1]-s.a[1])*(t.b[0]-t.a[0])) / d
	return orb.Point{s.a[0] + u*(s.b[0]-s.a[0]), s.a[1] + u*(s.b[1]-s.a[1])}
}
