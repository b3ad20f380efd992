package source

import (
	"fmt"

	"github.com/wcdl/wcdl/manifest"
)

// Bind gives every WorldCover product among entries its URL at each of
// srcs, in order: Locations lists them and URL becomes the first. Entries
// without a product (absolute URLs) keep their URL and get no Locations.
// srcs must not be empty.
func Bind(entries []manifest.Entry, srcs []Source) error {
	for i := range entries {
		e := &entries[i]
		if e.Product == "" {
			continue
		}
		locs := make([]manifest.Location, len(srcs))
		for k, s := range srcs {
			u, err := s.URL(e.Product)
			if err != nil {
				return fmt.Errorf("%s: %w", e.Source, err)
			}
			locs[k] = manifest.Location{Source: s.Name, URL: u}
		}
		e.URL, e.Locations = locs[0].URL, locs
	}
	return nil
}
