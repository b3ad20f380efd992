package manifest

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// DefaultBaseURL is the root of the Terrascope download service that
// WorldCover product names and paths are joined to.
const DefaultBaseURL = "https://services.terrascope.be/download"

// Options controls how tile ids and product names turn into URLs. The zero
// value means WorldCover 2021, Map layer, DefaultBaseURL.
type Options struct {
	// Years that a tile id expands to; default {2021}. Allowed: 2020 (v100)
	// and 2021 (v200).
	Years []int

	// Layers that a tile id expands to; default {"Map"}. Allowed: "Map" and
	// "InputQuality".
	Layers []string

	// BaseURL of the download service; default DefaultBaseURL.
	BaseURL string

	// Grid, if not nil, limits boxes and areas of interest to the tiles
	// it lists (see ParseGrid).
	Grid *Grid

	// Warn, if not nil, is told about input that is used all the same,
	// such as features of an area of interest without a geometry, which
	// are skipped. It gets one message per file at most for each kind.
	Warn func(msg string)
}

// versions maps each WorldCover year to its product version.
var versions = map[int]string{2020: "v100", 2021: "v200"}

// layers lists the WorldCover layers in canonical spelling.
var layers = []string{"Map", "InputQuality"}

// checked returns opts with defaults filled in, or an error saying which
// option is wrong.
func (o Options) checked() (Options, error) {
	if len(o.Years) == 0 {
		o.Years = []int{2021}
	}
	seen := map[int]bool{}
	for _, y := range o.Years {
		if _, ok := versions[y]; !ok {
			return o, fmt.Errorf("manifest options: year %d: WorldCover years are 2020 (v100) and 2021 (v200)", y)
		}
		if seen[y] {
			return o, fmt.Errorf("manifest options: year %d listed twice", y)
		}
		seen[y] = true
	}
	if len(o.Layers) == 0 {
		o.Layers = []string{"Map"}
	}
	seenL := map[string]bool{}
	for _, l := range o.Layers {
		if canonicalLayer(l) != l {
			return o, fmt.Errorf("manifest options: layer %q: WorldCover layers are Map and InputQuality", l)
		}
		if seenL[l] {
			return o, fmt.Errorf("manifest options: layer %s listed twice", l)
		}
		seenL[l] = true
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return o, fmt.Errorf("manifest options: base URL must be an http(s) URL with a host and no user, query or fragment, like %s", DefaultBaseURL)
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	return o, nil
}

// ParseYears parses a comma-separated list of WorldCover years, such as
// "2020,2021".
func ParseYears(s string) ([]int, error) {
	var years []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			return nil, fmt.Errorf("years %q: empty item; write them like 2020,2021", s)
		}
		y, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("years %q: %q is not a year; write them like 2020,2021", s, f)
		}
		if _, ok := versions[y]; !ok {
			return nil, fmt.Errorf("years %q: %d: WorldCover years are 2020 (v100) and 2021 (v200)", s, y)
		}
		for _, prev := range years {
			if prev == y {
				return nil, fmt.Errorf("years %q: %d listed twice", s, y)
			}
		}
		years = append(years, y)
	}
	return years, nil
}

// ParseLayers parses a comma-separated list of WorldCover layers, such as
// "Map,InputQuality". Case does not matter; the result is in canonical
// spelling.
func ParseLayers(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			return nil, fmt.Errorf("layers %q: empty item; write them like Map,InputQuality", s)
		}
		l := canonicalLayer(f)
		if l == "" {
			return nil, fmt.Errorf("layers %q: %q: WorldCover layers are Map and InputQuality", s, f)
		}
		for _, prev := range out {
			if prev == l {
				return nil, fmt.Errorf("layers %q: %s listed twice", s, l)
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// canonicalLayer returns the canonical spelling of layer l, or "" if l is
// not a WorldCover layer.
func canonicalLayer(l string) string {
	for _, c := range layers {
		if strings.EqualFold(l, c) {
			return c
		}
	}
	return ""
}
