package downloader

import (
	"errors"
	"io/fs"
	"os"
)

// metaAfter is how many bytes of a new version a transfer receives before
// it writes the part's metadata (<name>.part.meta), if the file is not
// complete by then. The metadata is what lets a part survive a crash; an
// attempt that ends early while the process lives (a cut body, a stall, a
// cancelled run) writes it anyway. A metadata file costs the folder about
// as much work as receiving this many bytes (docs/BENCHMARKS.md), so a file
// up to this size never gets one, and a crash costs at most this much again
// per file in flight.
const metaAfter = 256 << 10

// resumePoint returns how many bytes of the part can be resumed and the
// metadata describing them. A part whose metadata is missing, names another
// URL or size, or has no validator is discarded.
//
// A link or special file at the metadata's name fails the entry.
func (j *job) resumePoint() (int64, partMeta, error) {
	size, err := j.lock.size()
	if err != nil || (size == 0 && !j.metaUnknown) {
		return 0, partMeta{}, nil
	}
	m, err := readMeta(j.meta)
	if errors.Is(err, ErrNotRegular) {
		return 0, partMeta{}, err
	}
	j.metaOnDisk, j.metaUnknown = !errors.Is(err, fs.ErrNotExist), false
	if size == 0 {
		return 0, partMeta{}, nil
	}
	if err == nil && m.URLDigest == urlDigest(j.e.URL) && m.validator() != "" && size <= m.Size &&
		(j.e.Size < 0 || m.Size == j.e.Size) && (len(m.Done) == 0 || m.Done[len(m.Done)-1].End <= size) {
		return size, m, nil
	}
	j.discard()
	return 0, partMeta{}, nil
}

// discard empties the part and removes its metadata. The part itself stays
// while the lock is held (see lockPart); unlock removes it if still empty.
func (j *job) discard() {
	j.removeMeta()
	j.lock.truncate()
}

// removeMeta removes the part's metadata if this job knows it exists.
func (j *job) removeMeta() {
	if j.metaOnDisk {
		os.Remove(j.meta)
		j.metaOnDisk = false
	}
}

// saveMeta writes the metadata of the version being received beside the
// part, once; it does nothing for a version that cannot be resumed.
func (j *job) saveMeta(m partMeta, pending *bool) error {
	if !*pending {
		return nil
	}
	*pending = false
	if m.validator() == "" || m.Size < 0 {
		return nil
	}
	if err := writeMeta(j.meta, m); err != nil {
		return err
	}
	j.metaOnDisk = true
	return nil
}
