package downloader

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
)

// digestCheck computes the digest d names while the file streams by.
type digestCheck struct {
	d     sourceDigest
	whole hash.Hash     // CheckedETagMD5, CheckedContentMD5
	parts []*partHasher // CheckedETagParts, one per candidate part size
}

// newDigestCheck returns the check of d, or nil when there is nothing to
// check.
func newDigestCheck(d sourceDigest) *digestCheck {
	switch {
	case d.kind == CheckedETagParts && len(d.partSizes) > 0:
		c := &digestCheck{d: d}
		for _, p := range d.partSizes {
			c.parts = append(c.parts, &partHasher{size: p, cur: md5.New()})
		}
		return c
	case d.kind == CheckedETagMD5, d.kind == CheckedContentMD5:
		return &digestCheck{d: d, whole: md5.New()}
	}
	return nil
}

func (c *digestCheck) Write(p []byte) (int, error) {
	if c.whole != nil {
		c.whole.Write(p)
	}
	for _, h := range c.parts {
		h.Write(p)
	}
	return len(p), nil
}

// check compares the computed digest with the published one. ok is false
// when they differ; err is non-nil only on a mismatch that proves the file
// wrong. A multipart ETag no candidate part size reproduces proves nothing
// (the uploader may have used another part size): checked is then false.
func (c *digestCheck) check() (checked bool, err error) {
	if c.whole != nil {
		got := hex.EncodeToString(c.whole.Sum(nil))
		if got != c.d.want {
			what := "the service's ETag"
			if c.d.kind == CheckedContentMD5 {
				what = "the service's Content-MD5"
			}
			return false, fmt.Errorf("%w: MD5 is %s, %s says %s", ErrDigest, got, what, c.d.want)
		}
		return true, nil
	}
	for _, h := range c.parts {
		if sum, n := h.sum(); n == c.d.parts && sum == c.d.want {
			return true, nil
		}
	}
	if c.d.parts == 1 {
		// One part: its size is the file's, so the ETag is certain.
		sum, _ := c.parts[0].sum()
		return false, fmt.Errorf("%w: the MD5 of its one part's MD5 is %s, the service's ETag says %s-1", ErrDigest, sum, c.d.want)
	}
	return false, nil
}

// partHasher computes a multipart ETag for one part size.
type partHasher struct {
	size int64     // part size
	cur  hash.Hash // MD5 of the current part
	in   int64     // bytes of the current part hashed
	sums []byte    // MD5s of the complete parts
}

func (h *partHasher) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(int64(len(p)), h.size-h.in)
		h.cur.Write(p[:k])
		h.in += k
		p = p[k:]
		if h.in == h.size {
			h.sums = h.cur.Sum(h.sums)
			h.cur.Reset()
			h.in = 0
		}
	}
	return n, nil
}

// sum returns the ETag's hex digest and its part count.
func (h *partHasher) sum() (string, int) {
	sums := h.sums
	if h.in > 0 || len(sums) == 0 { // an empty object is one empty part
		sums = h.cur.Sum(sums)
	}
	all := md5.Sum(sums)
	return hex.EncodeToString(all[:]), len(sums) / md5.Size
}

// checkDigest checks the digest the service published, if hs computed it,
// and returns what the file has been verified against so far (for
// Result.Checked): its size, the manifest's checksums, the service's
// digest. A multipart ETag that cannot be checked is said at debug level.
func (j *job) checkDigest(hs fileHashes) ([]string, error) {
	var checked []string
	if j.e.Size >= 0 || j.lengthKnown {
		checked = append(checked, "size")
	}
	if j.e.SHA256 != "" {
		checked = append(checked, "sha256")
	}
	if j.e.MD5 != "" && hs.md5 != nil {
		checked = append(checked, "md5")
	}
	switch {
	case hs.src != nil:
		ok, err := hs.src.check()
		if err != nil {
			return nil, err
		}
		if ok {
			return append(checked, hs.src.d.kind), nil
		}
		j.d.cfg.logger().Debug("multipart ETag not checked: no usual part size reproduces it", "url", redact(j.e.URL), "parts", hs.src.d.parts, "part_sizes_tried", hs.src.d.partSizes)
	case j.digest.kind == CheckedETagParts:
		j.d.cfg.logger().Debug("multipart ETag not checked: its part size cannot be derived from the file size", "url", redact(j.e.URL), "parts", j.digest.parts)
	}
	return checked, nil
}
