package manifest

import (
	"strconv"
	"strings"
)

// String tells where an entry came from: "tiles.txt:12", "bbox 0,0,3,3",
// "aoi area.geojson", or "" if it is not known.
func (s Source) String() string {
	switch {
	case s.BBox != "":
		return "bbox " + s.BBox
	case s.AOI != "":
		return "aoi " + s.AOI
	case s.File != "" && s.Line > 0:
		return s.File + ":" + strconv.Itoa(s.Line)
	case s.File != "":
		return s.File
	case s.Line > 0:
		return "line " + strconv.Itoa(s.Line)
	}
	return ""
}

// String writes the entry as a manifest line: its URL followed by the
// sha256=, md5= and size= fields it has. Parsing the line gives an entry with
// the same URL, Name, Size and checksums, whatever the Options.
func (e Entry) String() string {
	var b strings.Builder
	b.Grow(len(e.URL) + 120)
	b.WriteString(e.URL)
	if e.SHA256 != "" {
		b.WriteString(" sha256=")
		b.WriteString(e.SHA256)
	}
	if e.MD5 != "" {
		b.WriteString(" md5=")
		b.WriteString(e.MD5)
	}
	if e.Size >= 0 {
		b.WriteString(" size=")
		b.WriteString(strconv.FormatInt(e.Size, 10))
	}
	return b.String()
}
