package downloader

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// partMeta describes the version of the file whose bytes are in a .part
// file. It is written beside the part (<name>.part.meta) before any byte of
// the body, so a later run can ask for the rest of the same version with
// If-Range, or start over when it cannot.
type partMeta struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`          // strong ETag, or ""
	LastModified string `json:"last_modified,omitempty"` // Last-Modified, or ""
	Size         int64  `json:"size"`                    // total size, or -1
}

// validator returns the If-Range value for m: the strong ETag, else the
// Last-Modified date, else "" (the part cannot be resumed safely).
func (m partMeta) validator() string {
	if m.ETag != "" {
		return m.ETag
	}
	return m.LastModified
}

// readMeta reads the metadata at path. ok is false when it is missing or
// unreadable: the part beside it is then restarted from zero.
func readMeta(path string) (m partMeta, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > 64<<10 {
		return partMeta{}, false
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return partMeta{}, false
	}
	return m, true
}

// writeMeta writes m to path atomically: a temporary file in the same
// folder, synced, closed and renamed over path.
func writeMeta(path string, m partMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write resume metadata: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write resume metadata %s: %w", path, err)
	}
	return nil
}

// strongETag returns etag if it is a strong entity tag, else "": a weak
// tag (W/"...") cannot be used in If-Range.
func strongETag(etag string) string {
	if len(etag) < 2 || etag[0] != '"' || etag[len(etag)-1] != '"' {
		return ""
	}
	return etag
}
