package auth

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxExcerpt bounds RetrieveError.Excerpt.
const maxExcerpt = 200

// A RetrieveError is an error answer from the token endpoint.
//
// It is permanent, and matches ErrBadCredentials under errors.Is, when the
// server rejected the client (invalid_client, unauthorized_client) or the
// username and password (invalid_grant on a password grant).
type RetrieveError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code and Description are the OAuth2 "error" and
	// "error_description" fields, when the body was JSON.
	Code, Description string
	// Excerpt is the start of a body that was not OAuth2 error JSON (an
	// HTML page from a proxy, say), at most 200 bytes, control characters
	// removed. It is never taken from a successful JSON answer, which
	// holds tokens.
	Excerpt string

	grant string // "password" or "refresh_token"
}

// Error quotes the status, the OAuth2 error code and description, or the
// excerpt.
func (e *RetrieveError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "token endpoint answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		fmt.Fprintf(&b, ": %q", e.Code)
		if e.Description != "" {
			fmt.Fprintf(&b, " (%s)", e.Description)
		}
	} else if e.Excerpt != "" {
		fmt.Fprintf(&b, " with a body that is not OAuth2 JSON: %q", e.Excerpt)
	}
	if e.permanent() {
		b.WriteString("; check the username, password and client id")
	}
	return b.String()
}

// Unwrap returns ErrBadCredentials for a rejected login or client, so that
// errors.Is(err, ErrBadCredentials) holds; otherwise nil.
func (e *RetrieveError) Unwrap() error {
	if e.permanent() {
		return ErrBadCredentials
	}
	return nil
}

func (e *RetrieveError) permanent() bool {
	switch e.Code {
	case "invalid_client", "unauthorized_client":
		return true
	case "invalid_grant":
		return e.grant == "password"
	}
	return false
}

// invalidRefresh reports an invalid_grant answer to a refresh grant: the
// refresh token is expired, revoked or its session ended.
func (e *RetrieveError) invalidRefresh() bool {
	return e.Code == "invalid_grant" && e.grant == "refresh_token"
}

// excerpt returns at most maxExcerpt bytes of body as valid UTF-8 with
// control and format characters dropped and runs of white space collapsed
// to one space.
func excerpt(body []byte) string {
	var b strings.Builder
	space := false
	for len(body) > 0 && b.Len() < maxExcerpt {
		r, n := utf8.DecodeRune(body)
		body = body[n:]
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) {
			if !space && b.Len() > 0 {
				space = true
			}
			continue
		}
		need := utf8.RuneLen(r)
		if space {
			need++
		}
		if b.Len()+need > maxExcerpt {
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
