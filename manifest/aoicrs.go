package manifest

import (
	"fmt"
	"strings"
)

// A geoCRS is the "crs" member of GeoJSON from before RFC 7946 (the 2008
// specification), which GDAL and QGIS still write: a named system, or a
// link to one.
type geoCRS struct {
	Type       string `json:"type"`
	Properties struct {
		Name string `json:"name"`
		Href string `json:"href"`
	} `json:"properties"`
}

// wgs84 lists the names of WGS 84 longitude/latitude systems, lower case:
// OGC's CRS84, which RFC 7946 makes the only one, and EPSG:4326, which GDAL
// names while still writing longitude first.
var wgs84 = []string{
	"urn:ogc:def:crs:ogc:1.3:crs84", "urn:ogc:def:crs:ogc::crs84", "crs84", "ogc:crs84",
	"http://www.opengis.net/def/crs/ogc/1.3/crs84",
	"epsg:4326", "urn:ogc:def:crs:epsg::4326", "urn:ogc:def:crs:epsg:6.6:4326",
	"http://www.opengis.net/def/crs/epsg/0/4326", "http://www.opengis.net/gml/srs/epsg.xml#4326",
}

// check returns what is wrong with a crs member that names a system other
// than WGS 84 longitude/latitude, or "": its coordinates would be read as
// degrees and fail as positions out of range, or worse, select the wrong
// tiles.
func (c *geoCRS) check() string {
	if c == nil {
		return ""
	}
	name := strings.TrimSpace(c.Properties.Name)
	if name == "" {
		name = strings.TrimSpace(c.Properties.Href)
	}
	for _, w := range wgs84 {
		if strings.EqualFold(name, w) {
			return ""
		}
	}
	shown := name
	if code, ok := epsgCode(name); ok {
		shown = "EPSG:" + code
	}
	if shown == "" {
		shown = "a coordinate system of type " + quote(c.Type)
	}
	return fmt.Sprintf("the \"crs\" member names %s, but areas must be in WGS 84 longitude/latitude (EPSG:4326, as RFC 7946 requires): reproject the file, for example with ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson", shown)
}

// epsgCode returns the code of an EPSG system named in any of the usual
// spellings: EPSG:3857, urn:ogc:def:crs:EPSG::3857,
// http://www.opengis.net/def/crs/EPSG/0/3857.
func epsgCode(name string) (string, bool) {
	lower := strings.ToLower(name)
	i := strings.LastIndex(lower, "epsg")
	if i < 0 {
		return "", false
	}
	rest := lower[i+len("epsg"):]
	j := strings.LastIndexAny(rest, ":/#")
	code := rest[j+1:]
	if code == "" || strings.Trim(code, "0123456789") != "" {
		return "", false
	}
	return code, true
}
