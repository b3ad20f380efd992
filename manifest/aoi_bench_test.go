package manifest_test

import (
	"bytes"
	"context"
	"math"
	"strconv"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// countryAOI returns a Polygon of n vertices the size of a large country
// (about 20 by 20 degrees around 10E 45N), with a ragged, concave outline:
// its radius wanders between 4 and 10 degrees.
func countryAOI(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"Feature","properties":{"name":"large"},"geometry":{"type":"Polygon","coordinates":[[`)
	var first []byte
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		r := 7 + 2*math.Sin(7*a) + math.Sin(113*a)
		p := "[" + strconv.FormatFloat(10+r*math.Cos(a), 'f', 6, 64) + "," + strconv.FormatFloat(45+r*math.Sin(a), 'f', 6, 64) + "],"
		if i == 0 {
			first = []byte(p[:len(p)-1])
		}
		b.WriteString(p)
	}
	b.Write(first)
	b.WriteString(`]]}}`)
	return b.Bytes()
}

// BenchmarkParseAOILarge reads, checks and plans a 100,000-vertex area of
// interest: JSON, validity (no self-intersection) and the tiles.
func BenchmarkParseAOILarge(b *testing.B) {
	data := countryAOI(100_000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		es, err := manifest.ParseAOI(context.Background(), bytes.NewReader(data), "large.geojson", manifest.Options{})
		if err != nil || len(es) == 0 {
			b.Fatalf("got %d entries, %v", len(es), err)
		}
	}
}

// spanningAOI returns a Polygon of n vertices over 20 by 20 degrees around
// 10E 45N whose edges nearly all span its width: a zigzag up the box,
// closed by a spine west of it. It is valid, and the worst case for
// checks that bucket edges by their bounds.
func spanningAOI(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"Polygon","coordinates":[[`)
	pt := func(x, y float64) {
		b.WriteString("[" + strconv.FormatFloat(x, 'f', 6, 64) + "," + strconv.FormatFloat(y, 'f', 6, 64) + "],")
	}
	teeth := n - 3
	for i := range teeth {
		x := 0.2
		if i%2 == 1 {
			x = 20
		}
		pt(x, 35+20*float64(i)/float64(teeth-1))
	}
	pt(0, 55)
	pt(0, 35)
	pt(0.2, 35)
	b.Truncate(b.Len() - 1)
	b.WriteString(`]]}`)
	return b.Bytes()
}

// BenchmarkParseAOISpanning reads, checks and plans polygons of 100,000
// and 300,000 vertices whose edges span their box.
func BenchmarkParseAOISpanning(b *testing.B) {
	for _, n := range []int{100_000, 300_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			data := spanningAOI(n)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				es, err := manifest.ParseAOI(context.Background(), bytes.NewReader(data), "spanning.geojson", manifest.Options{})
				if err != nil || len(es) == 0 {
					b.Fatalf("got %d entries, %v", len(es), err)
				}
			}
		})
	}
}
