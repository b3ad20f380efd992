package downloader

import (
	"io"
	"path/filepath"
	"strings"

	"github.com/wcdl/wcdl/downloader/tiff"
)

// checkFormat checks that a complete file named name is structurally whole.
// GeoTIFF tiles (.tif, .tiff) are checked with tiff.Check, which catches a
// truncated transfer when the service publishes no checksum (Terrascope
// publishes none). Other files are not checked.
func checkFormat(name string, r io.ReaderAt, size int64) error {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".tif", ".tiff":
		return tiff.Check(r, size)
	}
	return nil
}

// isTIFF reports whether checkFormat checks name as a GeoTIFF.
func isTIFF(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".tif", ".tiff":
		return true
	}
	return false
}
