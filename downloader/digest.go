package downloader

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

// The digests a service publishes for a whole file, as Result.Checked
// names them.
const (
	// CheckedETagMD5: an S3 ETag without a part count, the object's MD5.
	CheckedETagMD5 = "etag-md5"
	// CheckedETagParts: an S3 multipart ETag ("<hex>-N"), the MD5 of the
	// MD5s of its N parts.
	CheckedETagParts = "etag-md5-parts"
	// CheckedContentMD5: Azure's Content-MD5 (x-ms-blob-content-md5).
	CheckedContentMD5 = "content-md5"
)

// sourceDigest is what the service says the whole file's digest is.
type sourceDigest struct {
	kind  string // CheckedETagMD5, CheckedETagParts, CheckedContentMD5, or "" for none
	want  string // lower-case hex: the MD5, or for parts the MD5 of the parts' MD5s
	parts int    // for CheckedETagParts: the number of parts
	// partSizes are the part sizes that could have made a multipart ETag
	// (see partSizeCandidates); empty: it cannot be checked.
	partSizes []int64
}

// digestOf returns the digest the answer h publishes for a file of size
// bytes (-1 if unknown). whole is true for a 200 answer, whose
// Content-MD5 covers the whole file; a 206's covers its range only. An
// ETag is taken for an MD5 only from an S3 service (it sends
// x-amz-request-id), where it is one unless weak or of a multipart upload.
func digestOf(h http.Header, size int64, whole bool) sourceDigest {
	if v := h.Get("x-ms-blob-content-md5"); v != "" {
		if d, ok := base64MD5(v); ok {
			return sourceDigest{kind: CheckedContentMD5, want: d}
		}
	}
	if whole {
		if d, ok := base64MD5(h.Get("Content-MD5")); ok {
			return sourceDigest{kind: CheckedContentMD5, want: d}
		}
	}
	if h.Get("x-amz-request-id") == "" && h.Get("x-amz-id-2") == "" {
		return sourceDigest{}
	}
	return etagDigest(h.Get("ETag"), size)
}

// etagDigest reads an S3 ETag of an object of size bytes: "<32 hex>" is
// its MD5, "<32 hex>-N" the MD5 of its N parts' MD5s.
func etagDigest(etag string, size int64) sourceDigest {
	if len(etag) < 2 || etag[0] != '"' || etag[len(etag)-1] != '"' {
		return sourceDigest{} // weak or malformed
	}
	v := strings.ToLower(etag[1 : len(etag)-1])
	sum, count, multipart := strings.Cut(v, "-")
	if !isHex(sum, 32) {
		return sourceDigest{}
	}
	if !multipart {
		return sourceDigest{kind: CheckedETagMD5, want: sum}
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 || n > maxParts {
		return sourceDigest{}
	}
	return sourceDigest{kind: CheckedETagParts, want: sum, parts: n, partSizes: partSizeCandidates(size, n)}
}

// maxParts is S3's largest part count.
const maxParts = 10000

// maxCandidates bounds the part sizes hashed at once for a multipart ETag:
// each costs one MD5 pass over the file.
const maxCandidates = 3

// partSizeCandidates returns the part sizes that split size bytes into
// exactly n parts and that upload tools choose: whole MiB of at least
// S3's 5 MiB minimum (the AWS CLI uses 8 MiB, rclone 5 MiB and more). One
// part of any size gives the same ETag, so n == 1 gives {size}. More than
// maxCandidates (a file of few parts fits many sizes), or none, gives nil:
// the ETag cannot be checked.
func partSizeCandidates(size int64, n int) []int64 {
	if size < 0 {
		return nil
	}
	if n == 1 {
		return []int64{max(size, 1)}
	}
	const mib = 1 << 20
	// ceil(size/p) == n  <=>  size/n <= p < size/(n-1)
	lo := (size + int64(n) - 1) / int64(n)
	hi := (size - 1) / int64(n-1) // largest p with (n-1)*p < size
	var out []int64
	for p := max((lo+mib-1)/mib*mib, 5*mib); p <= hi; p += mib {
		if len(out) == maxCandidates {
			return nil
		}
		out = append(out, p)
	}
	return out
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// base64MD5 decodes a base64 MD5, as Content-MD5 carries it, to hex.
func base64MD5(v string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(b) != md5.Size {
		return "", false
	}
	return hex.EncodeToString(b), true
}
