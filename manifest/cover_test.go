package manifest

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/planar"
)

// star returns a star-shaped ring (so never self-intersecting) of n
// vertices around c, with radii drawn between rmin and rmax.
func star(rng *rand.Rand, c orb.Point, n int, rmin, rmax float64) orb.Ring {
	r := make(orb.Ring, 0, n+1)
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		d := rmin + rng.Float64()*(rmax-rmin)
		r = append(r, orb.Point{c[0] + d*math.Cos(a), c[1] + d*math.Sin(a)})
	}
	return append(r, r[0])
}

// bruteCells tests every grid cell against p on its own, the slow way the
// recursion in addPolygon must agree with.
func bruteCells(p orb.Polygon) map[tile]bool {
	out := map[tile]bool{}
	b := p.Bound()
	for r := int(math.Floor(b.Min[1]/3)) - 1; r <= int(math.Floor(b.Max[1]/3))+1; r++ {
		for c := int(math.Floor(b.Min[0]/3)) - 1; c <= int(math.Floor(b.Max[0]/3))+1; c++ {
			if r < row0 || r > rowN {
				continue
			}
			cell := span{r, r, c, c}.bound()
			if q := clip.Polygon(cell, p.Clone()); q != nil && planar.Area(q) > minArea {
				lon := ((c*3+180)%360+360)%360 - 180
				out[tile{r * 3, lon}] = true
			}
		}
	}
	return out
}

func TestCoverMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		c := orb.Point{rng.Float64()*400 - 200, rng.Float64()*150 - 75}
		rmax := 0.5 + rng.Float64()*25
		p := orb.Polygon{star(rng, c, 3+rng.IntN(60), rmax*0.2, rmax)}
		if rng.IntN(2) == 0 { // a hole around the same centre, inside the smallest radius
			p = append(p, star(rng, c, 3+rng.IntN(20), rmax*0.05, rmax*0.19))
		}
		var cv coverage
		cv.add(context.Background(), p)
		got := map[tile]bool{}
		for _, t := range cv.tiles(nil) {
			got[t] = true
		}
		want := bruteCells(p)
		if len(got) != len(want) {
			t.Fatalf("polygon %d around %v: %d tiles, brute force finds %d", i, c, len(got), len(want))
		}
		for k := range want {
			if !got[k] {
				t.Fatalf("polygon %d around %v: tile %s missing", i, c, k)
			}
		}
	}
}

// A polygon covering the whole grid selects every cell; an Antarctic one
// none.
func TestCoverExtremes(t *testing.T) {
	var cv coverage
	cv.add(context.Background(), orb.Polygon{{{-180, -90}, {180, -90}, {180, 90}, {-180, 90}, {-180, -90}}})
	if n := len(cv.tiles(nil)); n != nRows*nCols {
		t.Fatalf("whole world: %d tiles, want %d", n, nRows*nCols)
	}
	var south coverage
	south.add(context.Background(), orb.Polygon{{{-180, -90}, {180, -90}, {180, -60}, {-180, -60}, {-180, -90}}})
	if n := len(south.tiles(nil)); n != 0 {
		t.Fatalf("south of the grid: %d tiles, want 0", n)
	}
}

// Lines: the recursion in addLines must agree with testing every cell on
// its own.
func TestLineCoverMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		var ls orb.LineString
		p := orb.Point{rng.Float64()*600 - 300, rng.Float64()*170 - 85}
		for range 2 + rng.IntN(30) {
			ls = append(ls, p)
			step := rng.Float64() * 20
			if rng.IntN(3) == 0 { // land on grid lines now and then
				p = orb.Point{math.Round(p[0]/3) * 3, math.Round(p[1]/3) * 3}
			}
			p = orb.Point{min(max(p[0]+(rng.Float64()-0.5)*step, -360), 360), min(max(p[1]+(rng.Float64()-0.5)*step, -90), 90)}
		}
		var cv coverage
		cv.add(context.Background(), ls)
		got := map[tile]bool{}
		for _, t := range cv.tiles(nil) {
			got[t] = true
		}
		want := map[tile]bool{}
		b := ls.Bound()
		for r := row0; r <= rowN; r++ {
			for c := int(math.Floor(b.Min[0]/3)) - 1; c <= int(math.Floor(b.Max[0]/3))+1; c++ {
				cell := span{r, r, c, c}.bound()
				if ml := clip.LineString(cell, ls); len(ml) > 0 && linesInCell(ml, cell, r == rowN) {
					want[tile{r * 3, ((c*3+180)%360+360)%360 - 180}] = true
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("line %d %v: %d tiles, brute force finds %d", i, ls, len(got), len(want))
		}
		for k := range want {
			if !got[k] {
				t.Fatalf("line %d: tile %s missing", i, k)
			}
		}
	}
}
