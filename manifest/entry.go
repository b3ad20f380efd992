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
}

// Source tells where an Entry came from: a line of a manifest file, a
// bounding box or an area of interest.
type Source struct {
	File string // manifest file name ("-" for standard input), or ""
	Line int    // 1-based line number in File
	BBox string // the --bbox value the entry came from, or ""
	AOI  string // the area-of-interest file the entry came from, or ""
}
