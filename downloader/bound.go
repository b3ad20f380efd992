package downloader

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// DefaultMaxFileSize is Config.MaxFileSize when none is given: far above
// any Earth-observation tile, far below a full disk.
const DefaultMaxFileSize = 64 << 30

// bodyLimit returns how many body bytes the answer may carry from offset:
// the announced total, else the manifest's size=, else Config.MaxFileSize,
// less offset. The body is read up to one byte beyond, so that a longer
// body shows and fails the attempt instead of filling the disk. A total
// beyond MaxFileSize is refused before any byte is read.
func (j *job) bodyLimit(total, offset int64) (int64, error) {
	want := total
	if want < 0 {
		want = j.e.Size
	}
	if want < 0 {
		return j.d.cfg.MaxFileSize - offset, nil
	}
	if want > j.d.cfg.MaxFileSize {
		return 0, fmt.Errorf("%w: %d bytes expected, the limit is %d", ErrTooLarge, want, j.d.cfg.MaxFileSize)
	}
	return want - offset, nil
}

// overLimit is the error for a body that held more than limit bytes from
// offset.
func (j *job) overLimit(total, offset, limit int64) error {
	if total < 0 && j.e.Size < 0 {
		return fmt.Errorf("%w: the service sent more than %d bytes without announcing a length", ErrTooLarge, offset+limit)
	}
	return fmt.Errorf("%w: the service sent more than the %d bytes expected", ErrSizeMismatch, offset+limit)
}

// checkEncoding refuses a body sent with a content coding: wcdl asks for
// identity, and a gzip stream must never be stored as the file.
func checkEncoding(h http.Header) error {
	for _, v := range h.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				return fmt.Errorf("%w: Content-Encoding %q", ErrContentEncoding, c)
			}
		}
	}
	return nil
}

// sameVersion reports whether the answer to a range request proves that it
// continues the version the part was started from: the same strong ETag,
// or, where the part was started with Last-Modified as its validator, the
// same Last-Modified. An answer without the validator proves nothing.
func sameVersion(m partMeta, h http.Header) bool {
	if m.ETag != "" {
		return strongETag(h.Get("ETag")) == m.ETag
	}
	return m.LastModified != "" && h.Get("Last-Modified") == m.LastModified
}

// strongLastModified returns the answer's Last-Modified if it is a strong
// validator, else "". A date is weak when the file may have changed twice
// within its one-second precision: RFC 9110 §8.8.2.2 lets a client treat it
// as strong only when the answer's Date is at least one second later, and
// §13.1.5 forbids a weak date in If-Range. Without a Date, or with dates
// that do not parse, it is weak. A part whose version has no strong
// validator is restarted from zero rather than resumed or fetched in
// ranges, which could splice two versions written within one second.
func strongLastModified(h http.Header) string {
	v := h.Get("Last-Modified")
	lm, err1 := http.ParseTime(v)
	date, err2 := http.ParseTime(h.Get("Date"))
	if err1 != nil || err2 != nil || date.Sub(lm) < time.Second {
		return ""
	}
	return v
}
