package manifest

import (
	"io"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// WriteGeoJSON writes the plan's WorldCover tiles as a GeoJSON
// FeatureCollection that QGIS or geojson.io show on a map: one 3-degree
// Polygon per tile, in plan order, with the properties ll_tile (the tile
// id) and products (the file names planned for the tile). It returns the
// number of entries left out because they are not WorldCover products,
// such as plain URLs.
func (p *Plan) WriteGeoJSON(w io.Writer) (skipped int, err error) {
	fc := geojson.NewFeatureCollection()
	byTile := map[tile]*geojson.Feature{}
	for _, e := range p.Entries {
		pr, msg := parseProduct(e.Name)
		if msg != "" {
			skipped++
			continue
		}
		f, ok := byTile[pr.t]
		if !ok {
			lon, lat := float64(pr.t.lon), float64(pr.t.lat)
			f = geojson.NewFeature(orb.Polygon{{{lon, lat}, {lon + tileStep, lat}, {lon + tileStep, lat + tileStep}, {lon, lat + tileStep}, {lon, lat}}})
			f.Properties["ll_tile"] = pr.t.String()
			f.Properties["products"] = []string{}
			byTile[pr.t] = f
			fc.Append(f)
		}
		f.Properties["products"] = append(f.Properties["products"].([]string), e.Name)
	}
	b, err := fc.MarshalJSON()
	if err != nil {
		return skipped, err
	}
	_, err = w.Write(append(b, '\n'))
	return skipped, err
}
