package downloader

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/wcdl/wcdl/output"
)

// partMeta describes the version of the file whose bytes are in a .part
// file. It is written beside the part (<name>.part.meta) once the transfer
// has received metaAfter bytes, or when an attempt ends early, so a later
// run can ask for the rest of the same version with If-Range, or start over
// when it cannot. A part without metadata is restarted from zero.
type partMeta struct {
	URLDigest    string `json:"url_sha256,omitempty"`    // urlDigest: no secret of the URL is stored
	ETag         string `json:"etag,omitempty"`          // strong ETag, or ""
	LastModified string `json:"last_modified,omitempty"` // Last-Modified, or ""
	Size         int64  `json:"size"`                    // total size, or -1
	// Done lists the byte spans of a part fetched in parallel ranges
	// (ranges.go) that are complete, sorted and apart. Without it (a part
	// fetched as one stream, or written by an older wcdl) the part holds
	// the bytes from 0 to its length.
	Done []span `json:"done,omitempty"`
}

// span is the bytes [Start, End) of a file.
type span struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// record returns m as an output location stores it.
func (m partMeta) record() output.Record {
	r := output.Record{URLDigest: m.URLDigest, ETag: m.ETag, LastModified: m.LastModified, Size: m.Size}
	if m.Done != nil {
		r.Done = make([]output.Span, len(m.Done))
		for i, s := range m.Done {
			r.Done[i] = output.Span(s)
		}
	}
	return r
}

// metaOf returns the partMeta of a record an output location stored.
func metaOf(r output.Record) partMeta {
	m := partMeta{URLDigest: r.URLDigest, ETag: r.ETag, LastModified: r.LastModified, Size: r.Size}
	if r.Done != nil {
		m.Done = make([]span, len(r.Done))
		for i, s := range r.Done {
			m.Done[i] = span(s)
		}
	}
	return m
}

// maxSpans bounds the spans a metadata file may list.
const maxSpans = 1024

// metaJSON is partMeta as stored. The metadata of a part fetched in ranges
// names the URL's digest ranges_url_sha256 instead of url_sha256, so that
// a wcdl too old to know Done refuses it (and restarts the file) instead of
// resuming from the part's length across spans never received.
type metaJSON struct {
	partMeta
	RangesURLDigest string `json:"ranges_url_sha256,omitempty"`
}

// validator returns the If-Range value for m: the strong ETag, else the
// Last-Modified date, else "" (the part cannot be resumed safely).
func (m partMeta) validator() string {
	if m.ETag != "" {
		return m.ETag
	}
	return m.LastModified
}

// errBadMeta is a metadata file that is not a complete description: torn
// by a crash, or not written by wcdl.
var errBadMeta = errors.New("invalid resume metadata")

// readMeta reads the metadata at name in dir. The error wraps
// fs.ErrNotExist when there is none, and errBadMeta when it is torn or
// invalid: the part beside it is then restarted from zero.
func readMeta(dir *dirHandle, name string) (partMeta, error) {
	path := dir.join(name)
	f, err := dir.open(name, os.O_RDONLY, 0)
	if err != nil {
		return partMeta{}, err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxMeta+1))
	f.Close()
	if err != nil {
		return partMeta{}, fmt.Errorf("read resume metadata: %w", err)
	}
	return parseMeta(path, b)
}

// maxMeta bounds the size of a metadata file that is read.
const maxMeta = 64 << 10

// parseMeta decodes the metadata b read from path.
func parseMeta(path string, b []byte) (partMeta, error) {
	var mj metaJSON
	if len(b) > maxMeta || json.Unmarshal(b, &mj) != nil || (len(mj.Done) > 0) != (mj.RangesURLDigest != "") {
		return partMeta{}, fmt.Errorf("%s: %w", path, errBadMeta)
	}
	m := mj.partMeta
	if len(m.Done) > 0 {
		if m.URLDigest != "" {
			return partMeta{}, fmt.Errorf("%s: %w", path, errBadMeta)
		}
		m.URLDigest = mj.RangesURLDigest
	}
	if m.URLDigest == "" || m.Size < 0 || !validSpans(m.Done, m.Size) {
		return partMeta{}, fmt.Errorf("%s: %w", path, errBadMeta)
	}
	if len(m.Done) == 0 {
		m.Done = nil
	}
	return m, nil
}

// validSpans reports whether done lists at most maxSpans spans of a file of
// size bytes, each not empty, in order and apart (not even touching: spans
// that touch are one).
func validSpans(done []span, size int64) bool {
	if len(done) > maxSpans {
		return false
	}
	var prev int64 = -1
	for _, s := range done {
		if s.Start <= prev || s.Start < 0 || s.End <= s.Start || s.End > size {
			return false
		}
		prev = s.End
	}
	return true
}

// writeMeta writes m to name in dir with a single write into a new file, without
// fsync. A crash can leave it empty or torn: readMeta then rejects it (a
// truncated or zero-filled JSON document does not parse) and the part is
// restarted from zero, which If-Range makes safe anyway; a sync would cost
// every large file a disk flush to save a rare restart. Only the holder of
// the part's lock writes it.
func writeMeta(dir *dirHandle, name string, m partMeta) error {
	path := dir.join(name)
	mj := metaJSON{partMeta: m}
	if len(m.Done) > 0 {
		mj.URLDigest, mj.RangesURLDigest = "", m.URLDigest
	}
	b, err := json.Marshal(mj)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	f, err := dir.createExcl(name)
	if err != nil {
		return fmt.Errorf("write resume metadata: %w", err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		dir.remove(name)
		return fmt.Errorf("write resume metadata %s: %w", path, err)
	}
	return nil
}

// replaceMeta writes m to name in dir in place of the metadata there: into
// a new file beside it, renamed over it, so that a crash leaves either the
// old description or the new one. A rename replaces a link at name rather
// than following it.
func replaceMeta(dir *dirHandle, name string, m partMeta) error {
	tmp := name + ".new"
	dir.remove(tmp) // left by a crash; the part's lock is held
	if err := writeMeta(dir, tmp, m); err != nil {
		return err
	}
	if err := dir.rename(tmp, name); err != nil {
		dir.remove(tmp)
		return fmt.Errorf("write resume metadata %s: %w", dir.join(name), err)
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
