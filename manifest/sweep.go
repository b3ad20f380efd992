package manifest

import (
	"cmp"
	"context"
	"slices"

	"github.com/paulmach/orb"
)

// The validity check of a polygon's rings by a sweep line, after Shamos
// and Hoey (1976): a vertical line moves from west to east over the ring
// vertices, holding the edges it cuts in their south-to-north order, and
// only edges that become neighbours in that order, or that meet at a
// vertex the line reaches, are compared. Rings that do not break are
// checked in O(n log n) time and O(n) memory whatever their shape, rings
// whose edges all span their bounds included.
//
// Every pair it reports is one bad accepts, so it reports nothing a
// comparison of every pair would not; TestCrossingMatchesBruteForce
// checks the converse on random rings.

// sweepCheckEvery is how many vertices the sweep handles between two looks
// at its context.
const sweepCheckEvery = 1024

// crossing finds two segments that break a polygon: edges of one ring
// that meet other than at a shared vertex of consecutive edges, or edges of
// two rings that cross or overlap (rings may touch at a point). It returns
// ctx.Err() if ctx ends first.
func crossing(ctx context.Context, segs []segment) (segment, segment, bool, error) {
	sw := newSweep(segs)
	a, b, err := sw.run(ctx)
	if err != nil || a < 0 {
		return segment{}, segment{}, false, err
	}
	if a > b {
		a, b = b, a
	}
	return segs[a], segs[b], true, nil
}

// An event is an end of an edge, where the sweep line stops.
type event struct {
	at    orb.Point
	seg   int32
	start bool // at is the edge's west (or, if vertical, south) end
}

// sweep is the state of one sweep over a polygon's edges.
type sweep struct {
	segs   []segment
	lo, hi []orb.Point // each edge's ends in sweep order: lo before hi
	status treap       // the edges the line cuts, south to north
	pairs  int         // pairs of edges compared, for tests
}

func newSweep(segs []segment) *sweep {
	sw := &sweep{segs: segs, lo: make([]orb.Point, len(segs)), hi: make([]orb.Point, len(segs))}
	for i, s := range segs {
		sw.lo[i], sw.hi[i] = s.a, s.b
		if before(s.b, s.a) {
			sw.lo[i], sw.hi[i] = s.b, s.a
		}
	}
	sw.status.init(len(segs))
	return sw
}

// before orders points as the sweep meets them: west to east, and south
// to north on one meridian.
func before(p, q orb.Point) bool {
	return p[0] < q[0] || (p[0] == q[0] && p[1] < q[1])
}

// run sweeps and returns the indexes of two edges that break the polygon,
// or -1, -1.
func (sw *sweep) run(ctx context.Context) (int32, int32, error) {
	events := make([]event, 0, 2*len(sw.segs))
	for i := range sw.segs {
		events = append(events, event{sw.lo[i], int32(i), true}, event{sw.hi[i], int32(i), false})
	}
	slices.SortFunc(events, func(e, f event) int {
		if c := cmp.Compare(e.at[0], f.at[0]); c != 0 {
			return c
		}
		return cmp.Compare(e.at[1], f.at[1])
	})
	var through, after, group []int32 // scratch, reused at every stop
	for k, stops := 0, 0; k < len(events); stops++ {
		if stops%sweepCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return -1, -1, err
			}
		}
		p := events[k].at
		after = after[:0]
		for ; k < len(events) && events[k].at == p; k++ {
			if events[k].start {
				after = append(after, events[k].seg)
			}
		}
		var a, b int32
		through, after, group, a, b = sw.stop(p, through[:0], after, group[:0])
		if a >= 0 {
			return a, b, nil
		}
	}
	return -1, -1, nil
}

// stop moves the line to the vertex p. starting holds the edges whose west
// end is p. It takes the edges through p out of the status and puts back
// those that go on east of p, with the starting ones, in their order just
// east of p, comparing every pair that becomes neighbours and the edges
// that meet at p. It returns its scratch slices for reuse, and the edges
// of a bad pair or -1, -1.
func (sw *sweep) stop(p orb.Point, through, starting, group []int32) (_, _, _ []int32, _, _ int32) {
	t := &sw.status
	// The edges through p lie together in the status: every edge the
	// line cuts below p, then those through it, then those above it.
	x := t.lowest(func(i int32) bool { return orient(sw.lo[i], sw.hi[i], p) <= 0 })
	for ; x >= 0 && orient(sw.lo[x], sw.hi[x], p) == 0; x = t.next(x) {
		through = append(through, x)
	}
	above := x
	var below int32
	switch {
	case len(through) > 0:
		below = t.prev(through[0])
	case above >= 0:
		below = t.prev(above)
	default:
		below = t.last()
	}
	bad := func(i, j int32) bool {
		if i < 0 || j < 0 {
			return false
		}
		sw.pairs++
		return bad(&sw.segs[i], &sw.segs[j])
	}
	// Neighbours west of p. Two edges crossing at p are neighbours among
	// those that go on past p, in the order west of p.
	prevOn := int32(-1)
	for k, i := range through {
		if k > 0 && bad(through[k-1], i) {
			return through, starting, group, through[k-1], i
		}
		if sw.hi[i] != p {
			if bad(prevOn, i) {
				return through, starting, group, prevOn, i
			}
			prevOn = i
		}
	}
	// Edges of one ring that meet at p: any two that are not consecutive
	// edges break the ring, and of three edges of a ring of more than
	// three, two are not consecutive, so three of each ring suffice.
	group = append(append(group, through...), starting...)
	slices.SortFunc(group, func(i, j int32) int { return cmp.Compare(sw.segs[i].ring, sw.segs[j].ring) })
	for k := 0; k < len(group); {
		end := k + 1
		for end < len(group) && sw.segs[group[end]].ring == sw.segs[group[k]].ring {
			end++
		}
		run := group[k:min(end, k+3)]
		for m := range run {
			for _, j := range run[:m] {
				if bad(j, run[m]) {
					return through, starting, group, j, run[m]
				}
			}
		}
		k = end
	}
	for _, i := range through {
		t.remove(i)
	}
	// The edges east of p, in their order just east of it: by the angle
	// of their direction, from south-east round to north.
	for _, i := range through {
		if sw.hi[i] != p {
			starting = append(starting, i)
		}
	}
	east := starting
	slices.SortFunc(east, func(i, j int32) int { return -int(orient(p, sw.hi[i], sw.hi[j])) })
	if len(east) == 0 {
		if bad(below, above) {
			return through, starting, group, below, above
		}
		return through, starting, group, -1, -1
	}
	if bad(below, east[0]) {
		return through, starting, group, below, east[0]
	}
	for k := 1; k < len(east); k++ {
		if bad(east[k-1], east[k]) {
			return through, starting, group, east[k-1], east[k]
		}
	}
	if bad(east[len(east)-1], above) {
		return through, starting, group, east[len(east)-1], above
	}
	at := below
	for _, i := range east {
		t.insertAfter(at, i)
		at = i
	}
	return through, starting, group, -1, -1
}
