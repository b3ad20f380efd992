package downloader

// Checks on the stream: a location without Features.ReadBack (a bucket,
// written as a multipart upload) cannot give back the bytes written, so
// every check runs as the bytes pass. The digests are computed on the way
// (as for any file received as one stream) and, on a resume, go on from
// the state the location kept with the bytes (output.Held.Digests). The
// format check of a TIFF reads only its header, its directories and their
// tables, which a cloud-optimized GeoTIFF (every WorldCover tile) keeps at
// the start (a WorldCover tile's need a few tens of KiB): the first
// streamHead and the last streamTail bytes of the
// file are kept as they pass, and the check reads those. A TIFF whose
// structure lies elsewhere fails with ErrNotKept rather than being
// published unchecked. A resumed TIFF asks the service again for its first
// bytes, of the same version, before the rest.

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
)

// streamHead and streamTail are how many bytes of the start and of the
// end of a TIFF are kept for its format check on the stream.
const (
	streamHead = 256 << 10
	streamTail = 256 << 10
)

// errNotKept is a read of bytes the stream did not keep.
var errNotKept = errors.New("bytes not kept from the stream")

// finalError marks an error that another attempt cannot cure.
type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }
func (e *finalError) Unwrap() error { return e.err }

// streamKeep keeps the first and the last bytes of a file as they are
// written, and reads them back for the format check.
type streamKeep struct {
	size int64 // the file's size, or -1 if unknown (then no tail is kept)
	pos  int64 // the offset of the next byte written
	head []byte
	tail []byte // bytes from tailAt
	// missed: a read asked for bytes that were not kept.
	missed bool
	// whole: the keep saw the stream from its first byte to its end.
	whole bool
}

// newStreamKeep returns a keep for a file of size bytes (-1 if unknown)
// whose stream starts at offset pos.
func newStreamKeep(size, pos int64) *streamKeep {
	return &streamKeep{size: size, pos: pos, whole: pos == 0}
}

func (k *streamKeep) tailAt() int64 {
	if k.size < 0 {
		return -1
	}
	return max(k.size-streamTail, streamHead)
}

// Write keeps what p holds of the head and of the tail.
func (k *streamKeep) Write(p []byte) (int, error) {
	n := len(p)
	if k.pos < streamHead {
		m := min(int64(n), streamHead-k.pos)
		if int64(len(k.head)) == k.pos {
			if k.head == nil {
				k.head = make([]byte, 0, streamHead)
			}
			k.head = append(k.head, p[:m]...)
		}
	}
	if t := k.tailAt(); t >= 0 && k.pos+int64(n) > t {
		from := max(t-k.pos, 0)
		if int64(len(k.tail)) == k.pos+from-t {
			if k.tail == nil {
				k.tail = make([]byte, 0, k.size-t)
			}
			k.tail = append(k.tail, p[from:]...)
		}
	}
	k.pos += int64(n)
	return n, nil
}

// ReadAt reads kept bytes; bytes not kept are an errNotKept error, and
// mark the keep as missed.
func (k *streamKeep) ReadAt(p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	if off >= 0 && end <= int64(len(k.head)) {
		return copy(p, k.head[off:]), nil
	}
	if t := k.tailAt(); t >= 0 && off >= t && end <= t+int64(len(k.tail)) {
		return copy(p, k.tail[off-t:]), nil
	}
	k.missed = true
	return 0, fmt.Errorf("%w: %d bytes at %d", errNotKept, len(p), off)
}

// streamChecks reports whether this file's checks must run on the stream.
func (j *job) streamChecks() bool { return !j.loc.Features().ReadBack }

// needsKeep reports whether the format check of this file reads bytes
// that a stream must keep.
func (j *job) needsKeep() bool {
	switch strings.ToLower(filepath.Ext(j.e.Name)) {
	case ".tif", ".tiff":
		return j.streamChecks()
	}
	return false
}

// formatReader is what the format check reads: the slot, or what the
// stream kept.
func (j *job) formatReader() io.ReaderAt {
	if j.keep != nil {
		return j.keep
	}
	return j.f
}

// digestNames names the digests of hs, as output.Held.Digests keys them.
func digestNames(hs fileHashes) map[string]encoding.BinaryUnmarshaler {
	m := map[string]encoding.BinaryUnmarshaler{}
	if hs.sha256 != nil {
		m["sha256"] = hs.sha256.(encoding.BinaryUnmarshaler)
	}
	if hs.md5 != nil {
		m["md5"] = hs.md5.(encoding.BinaryUnmarshaler)
	}
	return m
}

// canResumeDigests reports whether the digests this file needs can go on
// from the states the location kept with its bytes.
func (j *job) canResumeDigests(states map[string][]byte) bool {
	for name := range digestNames(j.hashes()) {
		if len(states[name]) == 0 {
			return false
		}
	}
	return true
}

// resumeDigests sets hs to the states the location kept with its bytes.
func resumeDigests(hs fileHashes, states map[string][]byte) error {
	for name, h := range digestNames(hs) {
		if err := h.UnmarshalBinary(states[name]); err != nil {
			return fmt.Errorf("resume the %s of the partial file: %w", name, err)
		}
	}
	return nil
}

// fetchHead asks the service again for the first bytes of a file resumed
// at offset, of the version in meta, and keeps them for the format check:
// the bytes before offset passed in an earlier run and cannot be read
// back.
func (j *job) fetchHead(ctx context.Context, meta partMeta, offset int64) error {
	n := min(offset, int64(streamHead))
	resp, err := j.get(ctx, &j.att, "0-"+strconv.FormatInt(n-1, 10), meta.validator())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent {
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
			j.discard(ctx) // another version, or ranges not served: start over
			return fmt.Errorf("%w: asked for the first %d bytes again to check the format, got status %d", ErrBadRange, n, resp.StatusCode)
		}
		return statusErr(resp.StatusCode)
	}
	start, end, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
	if !ok || start != 0 || end != n-1 || size != meta.Size || !sameVersion(meta, resp.Header) {
		j.discard(ctx)
		return fmt.Errorf("%w: asked for bytes 0-%d of %d again, got %q", ErrBadRange, n-1, meta.Size, resp.Header.Get("Content-Range"))
	}
	j.digest = digestOf(resp.Header, meta.Size, false)
	if err := j.digestResumable(ctx); err != nil {
		return err
	}
	head := make([]byte, n)
	var got int
	for got < len(head) {
		m, err := j.d.readBody(ctx, resp.Body, head[got:], &rateWindow{})
		j.r.Bytes += int64(m)
		got += m
		if err != nil {
			if got == len(head) && err == io.EOF {
				break
			}
			return fmt.Errorf("%w: the first %d bytes, asked again: %d received: %v", ErrIncomplete, n, got, err)
		}
	}
	j.keep = newStreamKeep(meta.Size, 0)
	j.keep.Write(head)
	j.keep.pos, j.keep.whole = offset, false
	return nil
}

// digestResumable empties the slot of a file resumed on the stream when the
// service published a digest of it (j.digest): that digest covers every
// byte, and what the slot holds cannot be read back to compute it.
func (j *job) digestResumable(ctx context.Context) error {
	if !j.streamChecks() || newDigestCheck(j.digest) == nil {
		return nil
	}
	j.discard(ctx)
	return fmt.Errorf("the service publishes a digest of the whole file, which cannot be checked from the bytes already in %s; starting over", j.loc.Where(j.e.Name))
}
