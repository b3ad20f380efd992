package manifest

// An Entry is one file to download.
type Entry struct {
	// Raw is the entry as the user wrote it (a tile id, product name, path
	// or URL), without its key=value fields. For entries from a bounding
	// box it is the tile's product name.
	Raw string

	// Source tells where the entry came from.
	Source Source

	// URL is the absolute source URL.
	URL string

	// Name is the output file name: a single path segment, checked to be
	// safe to join to the output folder.
	Name string

	// Size is the expected size in bytes, or -1 if unknown.
	Size int64

	// SHA256 and MD5 are expected checksums as lower-case hex, or "".
	SHA256 string
	MD5    string

	// MayBeMissing is set for entries that may legitimately not exist on
	// the service, such as ocean tiles selected by a bounding box: a 404
	// for them means "no tile here" rather than a failure.
	MayBeMissing bool

	// Product is the WorldCover product name without ".tif" (such as
	// "ESA_WorldCover_10m_2021_v200_N00E006_Map") for entries given as a
	// tile id, product name or WorldCover path, and for the tiles of boxes
	// and areas; "" for an absolute URL. It lets a caller bind the entry to
	// other copies of the product (package source).
	Product string

	// Locations lists where the file can be fetched, in order of
	// preference, when a caller bound the entry to several sources; URL is
	// then Locations[0].URL. Parse leaves it empty: the file is at URL.
	Locations []Location
}

// A Location is one copy of an entry's file: the name of the source that
// holds it (such as "aws") and its URL there.
type Location struct {
	Source string
	URL    string
}

// Source tells where an Entry came from: a line of a manifest file, a
// bounding box or an area of interest.
type Source struct {
	File string // manifest file name ("-" for standard input), or ""
	Line int    // 1-based line number in File
	BBox string // the --bbox value the entry came from, or ""
	AOI  string // the area-of-interest file the entry came from, or ""
}
