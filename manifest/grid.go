package manifest

import (
	"encoding/json"
	"fmt"
	"io"
)

// A Grid is the set of tiles ESA publishes, as listed by the grid file that
// comes with WorldCover (esa_worldcover_grid.geojson): land tiles only.
type Grid struct {
	name  string
	cells [nRows * nCols]bool
	n     int
}

// ParseGrid reads a WorldCover grid file: a GeoJSON FeatureCollection whose
// features name their tile in the ll_tile property, such as "N00E006".
// name is the file name or URL used in messages. A feature without a valid
// ll_tile is an *Error naming it.
func ParseGrid(r io.Reader, name string) (*Grid, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &Error{File: name, Msg: "reading the grid: " + err.Error()}
	}
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Properties struct {
				LLTile *string `json:"ll_tile"`
			} `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		return nil, jsonError(name, data, err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, &Error{File: name, Msg: fmt.Sprintf("the grid must be a GeoJSON FeatureCollection, not %s", quote(fc.Type))}
	}
	g := &Grid{name: name}
	for i, f := range fc.Features {
		if f.Properties.LLTile == nil {
			return nil, &Error{File: name, Msg: fmt.Sprintf("feature %d has no ll_tile property naming its tile", i)}
		}
		t, msg := parseTile(*f.Properties.LLTile)
		if msg != "" {
			return nil, &Error{File: name, Msg: fmt.Sprintf("feature %d: ll_tile: %s", i, msg)}
		}
		if k := t.index(); !g.cells[k] {
			g.cells[k] = true
			g.n++
		}
	}
	if g.n == 0 {
		return nil, &Error{File: name, Msg: "the grid lists no tiles"}
	}
	return g, nil
}

// index is a tile's position in a row-major array of the grid's cells.
func (t tile) index() int {
	return (t.lat-minLat)/tileStep*nCols + (t.lon-minLon)/tileStep
}

func (g *Grid) has(t tile) bool { return g.cells[t.index()] }

// Len returns the number of tiles the grid lists.
func (g *Grid) Len() int { return g.n }

// Has reports whether the grid lists the tile with the given id.
func (g *Grid) Has(id string) bool {
	t, msg := parseTile(id)
	return msg == "" && g.has(t)
}

// Unlisted returns one message for each source of entries naming a
// WorldCover product whose tile the grid does not list, such as a tile
// id in a manifest that falls in the ocean. Entries that are not WorldCover
// products are not checked.
func (g *Grid) Unlisted(entries []Entry) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range entries {
		p, msg := parseProduct(e.Name)
		if msg != "" || g.has(p.t) {
			continue
		}
		key := e.Source.String() + " " + p.t.String()
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, fmt.Sprintf("%s: tile %s is not in the grid %s: ESA publishes no file for it", e.Source, p.t, g.name))
	}
	return out
}
