package manifest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// bruteCrossing is crossing by comparing every pair of edges.
func bruteCrossing(segs []segment) (segment, segment, bool) {
	for i := range segs {
		for j := range i {
			if bad(&segs[j], &segs[i]) {
				return segs[j], segs[i], true
			}
		}
	}
	return segment{}, segment{}, false
}

// segmentsOf returns the edges checkPolygon compares, or false if p fails
// a check made before them (too few positions, an open ring).
func segmentsOf(p orb.Polygon) ([]segment, bool) {
	var segs []segment
	for i, r := range p {
		if len(r) < 4 || r[0] != r[len(r)-1] {
			return nil, false
		}
		start := len(segs)
		for j := 1; j < len(r); j++ {
			if r[j] != r[j-1] {
				segs = append(segs, segment{a: r[j-1], b: r[j], ring: i, index: j - 1, seq: len(segs) - start})
			}
		}
		if len(segs)-start < 3 {
			return nil, false
		}
		segs[start].first, segs[len(segs)-1].last = true, true
	}
	return segs, len(segs) > 0
}

// randomPolygon returns a polygon of one to three rings of three to eight
// vertices on a small integer grid (so that vertices on edges, shared
// vertices, collinear and vertical edges are common) or, with fine, at
// random real positions.
func randomPolygon(rng *rand.Rand, fine bool) orb.Polygon {
	coord := func() float64 {
		if fine {
			return rng.Float64() * 4
		}
		return float64(rng.IntN(5))
	}
	var p orb.Polygon
	for range 1 + rng.IntN(3) {
		var r orb.Ring
		for range 3 + rng.IntN(6) {
			r = append(r, orb.Point{coord(), coord()})
		}
		p = append(p, append(r, r[0]))
	}
	return p
}

// TestCrossingMatchesBruteForce checks the sweep against a comparison of
// every pair of edges: both find a bad pair, or neither does. Each pair
// the sweep reports must be bad.
func TestCrossingMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 4))
	var valid, invalid int
	for n := range 100_000 {
		p := randomPolygon(rng, n%10 == 9)
		segs, ok := segmentsOf(p)
		if !ok {
			continue
		}
		_, _, want := bruteCrossing(segs)
		a, b, got, err := crossing(context.Background(), segs)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("polygon %v: sweep found a crossing: %v, want %v (brute force)", p, got, want)
		}
		if got && !bad(&a, &b) {
			t.Fatalf("polygon %v: sweep reported edges %v and %v, which do not break it", p, a, b)
		}
		if got {
			invalid++
		} else {
			valid++
		}
	}
	// The generator must exercise both answers.
	if valid < 1000 || invalid < 1000 {
		t.Fatalf("%d valid and %d invalid polygons, want a thousand of each", valid, invalid)
	}
}

// spanning returns a ring of n vertices (n >= 5) over the box
// [x0, x0+w] × [y0, y0+h] whose edges nearly all span its width: a zigzag
// up the box, closed by a spine west of it. No two edges meet but
// consecutive ones.
func spanning(n int, x0, y0, w, h float64) orb.Ring {
	teeth := n - 2
	r := make(orb.Ring, 0, n+1)
	for i := range teeth {
		x := x0 + w/100
		if i%2 == 1 {
			x = x0 + w
		}
		r = append(r, orb.Point{x, y0 + h*float64(i)/float64(teeth-1)})
	}
	r = append(r, orb.Point{x0, y0 + h}, orb.Point{x0, y0}, r[0])
	return r[: len(r)-1 : len(r)-1]
}

func closed(r orb.Ring) orb.Ring { return append(r, r[0]) }

// TestSpanningPolygonWork checks valid and broken polygons whose edges all
// span their box: the sweep compares about n pairs of edges, and the check
// allocates a few hundred bytes per vertex, where the grid of buckets it
// replaced took n^1.5 of both.
func TestSpanningPolygonWork(t *testing.T) {
	const n = 20_000
	ring := spanning(n, 0, 0, 20, 20)
	broken := append(orb.Ring(nil), ring...)
	// Move one tooth past its neighbour so two edges cross.
	broken[n/2][1] = broken[n/2+2][1] + 0.0001
	tests := []struct {
		name string
		p    orb.Polygon
		want string
	}{
		{"valid", orb.Polygon{closed(ring)}, ""},
		{"crossing", orb.Polygon{closed(broken)}, "ring 0 crosses itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err := checkGeometry(context.Background(), tt.p)
			runtime.ReadMemStats(&after)
			if got := fmt.Sprint(err); (tt.want == "") != (err == nil) || !strings.Contains(got, tt.want) {
				t.Fatalf("checkGeometry: got %v, want %q", err, tt.want)
			}
			if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(300*n); got > limit {
				t.Fatalf("checkGeometry allocated %d bytes for a %d-vertex polygon, want at most %d", got, n, limit)
			}
			segs, _ := segmentsOf(tt.p)
			sw := newSweep(segs)
			if _, _, err := sw.run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if limit := 4 * n; sw.pairs > limit {
				t.Fatalf("the sweep compared %d pairs of edges of a %d-vertex polygon, want at most %d", sw.pairs, n, limit)
			}
		})
	}
}

// FuzzCrossingMatchesBruteForce reads a polygon from bytes, one ring
// length then that many vertices on a 6 by 6 grid per ring, and checks the
// sweep against a comparison of every pair of edges.
func FuzzCrossingMatchesBruteForce(f *testing.F) {
	f.Add([]byte{4, 0, 0, 3, 0, 3, 3, 0, 3})                            // a square
	f.Add([]byte{4, 0, 0, 3, 3, 3, 0, 0, 3})                            // a bow tie
	f.Add([]byte{6, 0, 0, 4, 0, 2, 2, 4, 4, 0, 4, 2, 2})                // a figure eight through a vertex
	f.Add([]byte{4, 0, 0, 5, 0, 5, 5, 0, 5, 3, 0, 2, 2, 2, 2, 3, 0, 2}) // a hole touching the exterior
	f.Fuzz(func(t *testing.T, b []byte) {
		var p orb.Polygon
		for len(b) > 0 && len(p) < 4 {
			n := 3 + int(b[0])%8
			b = b[1:]
			if len(b) < 2*n {
				break
			}
			var r orb.Ring
			for k := range n {
				r = append(r, orb.Point{float64(b[2*k] % 6), float64(b[2*k+1] % 6)})
			}
			b = b[2*n:]
			p = append(p, append(r, r[0]))
		}
		segs, ok := segmentsOf(p)
		if !ok {
			return
		}
		_, _, want := bruteCrossing(segs)
		a, c, got, err := crossing(context.Background(), segs)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || (got && !bad(&a, &c)) {
			t.Fatalf("polygon %v: sweep found a crossing: %v (edges %v, %v), want %v (brute force)", p, got, a, c, want)
		}
	})
}
