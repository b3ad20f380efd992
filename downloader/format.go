package downloader

import (
	"context"
	"io"
	"path/filepath"
	"strings"

	"github.com/wcdl/wcdl/downloader/tiff"
)

// checkFormat checks that a complete file named name is structurally whole.
// GeoTIFF tiles (.tif, .tiff) are checked with tiff.Check, which catches a
// truncated transfer when the service publishes no checksum (Terrascope
// publishes none). Other files are not checked. The check ends with
// ctx.Err() when ctx does.
func checkFormat(ctx context.Context, name string, r io.ReaderAt, size int64) error {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".tif", ".tiff":
		return tiff.Check(ctx, r, size)
	}
	return nil
}

// formatChecked names the format check checkFormat makes of name, for
// Result.Checked: "tiff", or none.
func formatChecked(name string) []string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".tif", ".tiff":
		return []string{"tiff"}
	}
	return nil
}
