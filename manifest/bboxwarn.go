package manifest

import (
	"fmt"
	"strconv"
	"strings"
)

// BBoxWarning returns a warning for a valid box "W,S,E,N" that is valid but
// probably a typo, or "" if there is nothing to say: a box whose west edge
// is east of its east edge crosses the antimeridian, and when it therefore
// spans more than 180° of longitude it most likely had its edges swapped.
func BBoxWarning(spec string) string {
	parts := strings.Split(strings.TrimSpace(spec), ",")
	if len(parts) != 4 {
		return ""
	}
	w, err1 := strconv.ParseFloat(strings.TrimSpace(parts[0]), 64)
	e, err2 := strconv.ParseFloat(strings.TrimSpace(parts[2]), 64)
	if err1 != nil || err2 != nil || w <= e {
		return ""
	}
	width := 360 - (w - e)
	if width <= 180 {
		return ""
	}
	swapped := strings.Join([]string{parts[2], parts[1], parts[0], parts[3]}, ",")
	return fmt.Sprintf("bbox %s: west %g is east of east %g, so the box crosses the antimeridian and spans %g° of longitude; if you meant the %g° between them, give --bbox %s",
		strings.TrimSpace(spec), w, e, width, w-e, strings.TrimSpace(swapped))
}
