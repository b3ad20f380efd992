package manifest

import (
	"encoding/json"
	"io"

	"github.com/paulmach/orb"
)

// WriteGeoJSON writes the plan's WorldCover tiles as a GeoJSON
// FeatureCollection that QGIS or geojson.io show on a map: one 3-degree
// Polygon per tile, in plan order, with the properties ll_tile (the tile
// id) and products (the file names planned for the tile). It returns the
// number of entries left out because they are not WorldCover products,
// such as plain URLs.
func (p *Plan) WriteGeoJSON(w io.Writer) (skipped int, err error) {
	type geometry struct {
		Type        string      `json:"type"`
		Coordinates orb.Polygon `json:"coordinates"`
	}
	type properties struct {
		LLTile   string   `json:"ll_tile"`
		Products []string `json:"products"`
	}
	type feature struct {
		Type       string     `json:"type"`
		Geometry   geometry   `json:"geometry"`
		Properties properties `json:"properties"`
	}
	fc := struct {
		Type     string     `json:"type"`
		Features []*feature `json:"features"`
	}{Type: "FeatureCollection", Features: []*feature{}}
	byTile := map[tile]*feature{}
	for _, e := range p.Entries {
		pr, msg := parseProduct(e.Name)
		if msg != "" {
			skipped++
			continue
		}
		f, ok := byTile[pr.t]
		if !ok {
			lon, lat := float64(pr.t.lon), float64(pr.t.lat)
			ring := orb.Ring{{lon, lat}, {lon + tileStep, lat}, {lon + tileStep, lat + tileStep}, {lon, lat + tileStep}, {lon, lat}}
			f = &feature{Type: "Feature", Geometry: geometry{"Polygon", orb.Polygon{ring}}, Properties: properties{LLTile: pr.t.String()}}
			byTile[pr.t] = f
			fc.Features = append(fc.Features, f)
		}
		f.Properties.Products = append(f.Properties.Products, e.Name)
	}
	b, err := json.Marshal(fc)
	if err != nil {
		return skipped, err
	}
	_, err = w.Write(append(b, '\n'))
	return skipped, err
}
