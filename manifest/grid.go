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
// ll_tile is an *Error naming it; invalid JSON is an *Error with its line
// and column.
//
// The file is read as a stream, one feature at a time: memory stays within
// the largest feature and a few kilobytes, whatever the file's size.
func ParseGrid(r io.Reader, name string) (*Grid, error) {
	p := &gridParser{name: name, in: &posReader{r: r, lastNL: -1}}
	p.dec = json.NewDecoder(p.in)
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.g, nil
}

// gridParser is the state of one ParseGrid.
type gridParser struct {
	name string
	in   *posReader
	dec  *json.Decoder
	g    *Grid
	// mark is an offset where the syntax around is known, prefix JSON
	// text that leads to the same state: from there a syntax error can be
	// found again, to say where it is.
	mark   int64
	prefix string
	key    string // the member of the top-level object being read
}

func (p *gridParser) fail(format string, args ...any) error {
	return &Error{File: p.name, Msg: fmt.Sprintf(format, args...)}
}

// at marks the decoder's offset as a place where the text prefix leads to
// the same state.
func (p *gridParser) at(prefix string) {
	p.mark, p.prefix = p.dec.InputOffset(), prefix
	p.in.forget(p.mark - 1) // an error at the mark is told at the byte before
}

func (p *gridParser) parse() error {
	p.g = &Grid{name: p.name}
	p.at("")
	if err := p.delim('{', "the grid must be a GeoJSON FeatureCollection"); err != nil {
		return err
	}
	p.at("{")
	var typ *string
	var featureErr error // the first bad feature, reported if the type is right
	features := false
	for p.dec.More() {
		t, err := p.dec.Token()
		if err != nil {
			return p.jsonError(err, nil)
		}
		key, _ := t.(string)
		p.key = key
		p.at(`{"a"`)
		switch key {
		case "type":
			typ = new(string)
			if err := p.dec.Decode(typ); err != nil {
				return p.jsonError(err, new(string))
			}
		case "features":
			features = true
			if err := p.delim('[', `member "features" must be an array`); err != nil {
				return err
			}
			p.at(`{"features":[`)
			var f gridFeature // one for all: no allocation per feature
			for i := 0; p.dec.More(); i++ {
				f = gridFeature{}
				if err := p.dec.Decode(&f); err != nil {
					return p.jsonError(err, new(gridFeature))
				}
				p.at(`{"features":[0`)
				if featureErr == nil {
					featureErr = p.add(i, &f)
				}
			}
			if _, err := p.dec.Token(); err != nil { // the ]
				return p.jsonError(err, nil)
			}
		default:
			var skip json.RawMessage
			if err := p.dec.Decode(&skip); err != nil {
				return p.jsonError(err, nil)
			}
		}
		p.at(`{"a":0`)
	}
	if _, err := p.dec.Token(); err != nil { // the }
		return p.jsonError(err, nil)
	}
	p.at("0")
	if _, err := p.dec.Token(); err != io.EOF {
		if err == nil {
			err = &json.SyntaxError{}
		}
		return p.jsonError(err, nil)
	}
	switch {
	case typ == nil || *typ != "FeatureCollection":
		t := ""
		if typ != nil {
			t = *typ
		}
		return p.fail("the grid must be a GeoJSON FeatureCollection, not %s", quote(t))
	case featureErr != nil:
		return featureErr
	case !features || p.g.n == 0:
		return p.fail("the grid lists no tiles")
	}
	return nil
}

// gridFeature is the part of a grid feature ParseGrid reads.
type gridFeature struct {
	Properties struct {
		LLTile *string `json:"ll_tile"`
	} `json:"properties"`
}

// add adds feature i's tile to the grid.
func (p *gridParser) add(i int, f *gridFeature) error {
	if f.Properties.LLTile == nil {
		return p.fail("feature %d has no ll_tile property naming its tile", i)
	}
	t, msg := parseTile(*f.Properties.LLTile)
	if msg != "" {
		return p.fail("feature %d: ll_tile: %s", i, msg)
	}
	if k := t.index(); !p.g.cells[k] {
		p.g.cells[k] = true
		p.g.n++
	}
	return nil
}

// delim reads the delimiter want, or fails with msg.
func (p *gridParser) delim(want json.Delim, msg string) error {
	t, err := p.dec.Token()
	if err != nil {
		return p.jsonError(err, nil)
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return p.fail("%s, not %s", msg, jsonKind(t))
	}
	return nil
}

// jsonKind names the JSON value a token starts, for messages.
func jsonKind(t json.Token) string {
	switch t := t.(type) {
	case json.Delim:
		if t == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
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
