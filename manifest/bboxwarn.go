package manifest

import (
	"fmt"
	"strconv"
	"strings"
)

// BBoxWarnings returns what is worth a warning about a valid box
// "W,S,E,N", or nothing: a box that reaches beyond the grid's latitudes
// (it is clipped to them, or selects nothing when wholly beyond), and a box
// whose west edge is east of its east edge, so that it crosses the
// antimeridian, when it therefore spans more than 180° of longitude: it most
// likely had its edges swapped.
func BBoxWarnings(spec string) []string {
	spec = strings.TrimSpace(spec)
	parts := strings.Split(spec, ",")
	if len(parts) != 4 {
		return nil
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil
		}
		v[i] = f
	}
	var out []string
	if s, n := v[1], v[3]; s < minLat || n > topLat {
		what := "its parts beyond it are left out"
		if n < minLat || s > topLat || (s < n && (n <= minLat || s >= topLat)) {
			what = "it selects no tile"
		}
		out = append(out, fmt.Sprintf("bbox %s reaches beyond the WorldCover grid, which runs from latitude -60 to 84 (tile rows S60 to N81): %s", spec, what))
	}
	w, e, whole := lonSpan(v[0], v[2])
	if whole || w <= e {
		return out
	}
	width := 360 - (w - e)
	if width <= 180 {
		return out
	}
	swapped := strings.Join([]string{parts[2], parts[1], parts[0], parts[3]}, ",")
	return append(out, fmt.Sprintf("bbox %s: west %g is east of east %g, so the box crosses the antimeridian and spans %g° of longitude; if you meant the %g° between them, give --bbox %s",
		spec, v[0], v[2], width, w-e, strings.TrimSpace(swapped)))
}
