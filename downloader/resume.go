package downloader

import (
	"context"
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

// resumePoint returns how many bytes held in the file's slot can be
// resumed and the metadata describing them. Bytes whose metadata is
// missing, names another URL or size, or has no validator are discarded.
//
// A link or special file at the metadata's name fails the entry.
func (j *job) resumePoint(ctx context.Context) (int64, partMeta, error) {
	held, err := j.f.Held(ctx)
	if err != nil || held.Size == 0 {
		return 0, partMeta{}, err
	}
	size, m := held.Size, metaOf(held.Record)
	if m.URLDigest == urlDigest(j.e.URL) && m.validator() != "" && size <= m.Size &&
		(j.e.Size < 0 || m.Size == j.e.Size) && (len(m.Done) == 0 || m.Done[len(m.Done)-1].End <= size) &&
		(!j.streamChecks() || (len(m.Done) == 0 && j.canResumeDigests(held.Digests))) {
		j.digests = held.Digests
		return size, m, nil
	}
	return 0, partMeta{}, j.discard(ctx)
}

// discard empties the file's slot and forgets its metadata.
func (j *job) discard(ctx context.Context) error {
	return j.f.Discard(ctx)
}

// saveMeta records the version being received, once; it does nothing for
// a version that cannot be resumed.
func (j *job) saveMeta(ctx context.Context, m partMeta, pending *bool) error {
	if !*pending {
		return nil
	}
	*pending = false
	if m.validator() == "" || m.Size < 0 {
		return nil
	}
	return j.f.Save(ctx, m.record())
}
