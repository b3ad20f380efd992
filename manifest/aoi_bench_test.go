package manifest_test

import (
	"bytes"
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
		es, err := manifest.ParseAOI(bytes.NewReader(data), "large.geojson", manifest.Options{})
		if err != nil || len(es) == 0 {
			b.Fatalf("got %d entries, %v", len(es), err)
		}
	}
}
