package manifest

import (
	"math"
	"math/big"

	"github.com/paulmach/orb"
)

// orient is the sign of the turn a, b, c: 1 left, -1 right, 0 collinear.
// The sign is exact, not that of a rounded product: the sweep that checks
// polygons orders edges by it, and an order that rounding makes
// inconsistent would hide a crossing. Most calls decide in floating point
// with Shewchuk's error bound; the few too close to call are computed in
// rationals.
func orient(a, b, c orb.Point) float64 {
	left := (a[0] - c[0]) * (b[1] - c[1])
	right := (a[1] - c[1]) * (b[0] - c[0])
	det := left - right
	bound := orientErrBound * (math.Abs(left) + math.Abs(right))
	// Far below 1 the bound no longer holds: products may underflow.
	if math.Abs(det) > bound && bound > tiny {
		return sign(det)
	}
	if exactDet(a, b, c, left, right, det) {
		return sign(det)
	}
	return orientExact(a, b, c)
}

const (
	epsilon        = 0x1p-53                    // half an ulp of 1
	orientErrBound = (3 + 16*epsilon) * epsilon // Shewchuk's ccwerrboundA
	tiny           = 0x1p-900                   // far from underflow
)

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// exactDet reports whether det = left - right was computed without
// rounding, as it is when a difference is zero or the coordinates have few
// significant digits, such as integers.
func exactDet(a, b, c orb.Point, left, right, det float64) bool {
	return exactProduct(a[0], c[0], b[1], c[1], left) && exactProduct(a[1], c[1], b[0], c[0], right) &&
		exactDiff(left, right) && !math.IsInf(det, 0) && !math.IsNaN(det)
}

// exactProduct reports whether p, the rounded (x1-y1)*(x2-y2), is exact.
func exactProduct(x1, y1, x2, y2, p float64) bool {
	if x1 == y1 || x2 == y2 {
		return true // 0 times anything finite
	}
	for _, d := range [...][2]float64{{x1, y1}, {x2, y2}} {
		// A difference this small could make the product underflow.
		if !exactDiff(d[0], d[1]) || math.Abs(d[0]-d[1]) < 0x1p-400 {
			return false
		}
	}
	return math.FMA(x1-y1, x2-y2, -p) == 0
}

// exactDiff reports whether x - y is exact in floating point (Knuth's
// TwoSum error term is zero).
func exactDiff(x, y float64) bool {
	s := x - y
	bb := s - x // about -y
	return (x-(s-bb))+(-y-bb) == 0 && !math.IsInf(s, 0) && !math.IsNaN(s)
}

// orientExact is orient in exact rational arithmetic.
func orientExact(a, b, c orb.Point) float64 {
	for _, v := range [...]float64{a[0], a[1], b[0], b[1], c[0], c[1]} {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return sign((b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0]))
		}
	}
	r := func(v float64) *big.Rat { return new(big.Rat).SetFloat64(v) }
	ax, ay := r(a[0]), r(a[1])
	d := func(x, y *big.Rat) *big.Rat { return new(big.Rat).Sub(x, y) }
	cx, cy := r(c[0]), r(c[1])
	left := new(big.Rat).Mul(d(ax, cx), d(r(b[1]), cy))
	right := new(big.Rat).Mul(d(ay, cy), d(r(b[0]), cx))
	return float64(left.Cmp(right))
}
