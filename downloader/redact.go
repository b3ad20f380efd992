package downloader

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"

	"github.com/wcdl/wcdl/internal/shown"
)

// redact returns raw for errors and logs: without a query or user
// information, which may hold a signature or a password (shown.URL).
func redact(raw string) string { return shown.URL(raw) }

// Redact returns the URL raw without its query, user information and
// fragment, for reports and logs: a presigned URL's signature or a
// ?token= is a secret.
func Redact(raw string) string { return redact(raw) }

// RedactEntry returns a manifest entry as written (a URL, a path, a
// product name) without a query or user information.
func RedactEntry(raw string) string {
	if strings.Contains(raw, "://") {
		return RedactText(raw)
	}
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		return raw[:i] + "?…"
	}
	return raw
}

// RedactText returns s with every absolute URL in it redacted (see
// Redact): it is used on error messages and log values that may quote a
// URL.
func RedactText(s string) string { return shown.URLsIn(s) }

// redactedError keeps the chain of err for errors.Is and errors.As while
// its message has every URL redacted.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactErr returns err with every URL in its message redacted, and the
// URL of every *url.Error in its chain redacted in place.
func redactErr(err error) error {
	if err == nil {
		return nil
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ue, ok := e.(*url.Error); ok {
			ue.URL = redact(ue.URL)
		}
	}
	msg := RedactText(err.Error())
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// urlDigest identifies raw in side files without storing it: the SHA-256
// of the URL without its query, user information and fragment.
func urlDigest(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.RawQuery, u.ForceQuery, u.User, u.Fragment, u.RawFragment = "", false, nil, "", ""
	s := sha256.Sum256([]byte(u.String()))
	return hex.EncodeToString(s[:])
}
