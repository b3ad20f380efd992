package auth

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wcdl/wcdl/internal/shown"
)

// maxExcerpt bounds RetrieveError.Excerpt.
const maxExcerpt = 200

// A RetrieveError is an error answer from the token endpoint.
//
// Any 4xx answer to a password grant is final for the run: it matches
// ErrLoginFailed under errors.Is, and also ErrBadCredentials when the
// provider rejected the client (invalid_client, unauthorized_client) or the
// username and password (invalid_grant, access_denied). An answer that is
// not OAuth2 JSON and is not a 5xx matches ErrLoginFailed and
// ErrNotTokenEndpoint, whatever the grant.
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
	// RetryAfter is the wait a 429 or 503 asked for with Retry-After;
	// zero when it asked for none.
	RetryAfter time.Duration

	grant string // "password" or "refresh_token"
}

// Error quotes the status, the OAuth2 error code and description, or the
// excerpt, and says what to check.
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
	if h := e.hint(); h != "" {
		b.WriteString("; ")
		b.WriteString(h)
	}
	return b.String()
}

// hint says what to check after a final answer.
func (e *RetrieveError) hint() string {
	switch {
	case e.notOAuth2():
		return "this is not an OAuth2 token endpoint: check --token-url (or --issuer)"
	case !e.final():
		return ""
	case e.asksForScope():
		return "the provider asks for a scope: pass one with --scope (for example --scope openid)"
	}
	switch e.Code {
	case "invalid_grant", "access_denied":
		return "check the username and password, and that the account may use this client"
	case "invalid_client", "unauthorized_client":
		return "check the client id (--client-id) and that it allows the password grant"
	case "unsupported_grant_type":
		return "this client does not allow the password grant: check --client-id"
	}
	return "check the username, password, --client-id and --scope"
}

// Unwrap returns the sentinels the answer matches: ErrLoginFailed for a
// final answer to a password grant, with ErrBadCredentials or
// ErrNotTokenEndpoint when they apply.
func (e *RetrieveError) Unwrap() []error {
	var errs []error
	if e.final() {
		errs = append(errs, ErrLoginFailed)
	}
	if e.notOAuth2() {
		errs = append(errs, ErrNotTokenEndpoint)
	} else if e.badCredentials() {
		errs = append(errs, ErrBadCredentials)
	}
	return errs
}

// final reports an answer that ends the run's logins: any 4xx to a
// password grant, or an answer that is not OAuth2 JSON.
func (e *RetrieveError) final() bool {
	return e.notOAuth2() || (e.grant == "password" && e.StatusCode >= 400 && e.StatusCode < 500 && e.StatusCode != http.StatusTooManyRequests)
}

// notOAuth2 reports an answer without OAuth2 error JSON that is not a
// server error (which may come from a proxy in front of a good endpoint).
func (e *RetrieveError) notOAuth2() bool {
	return e.Code == "" && e.StatusCode < 500 && e.StatusCode != http.StatusTooManyRequests
}

func (e *RetrieveError) badCredentials() bool {
	switch e.Code {
	case "invalid_client", "unauthorized_client":
		return true
	case "invalid_grant", "access_denied":
		return e.grant == "password"
	}
	return false
}

// asksForScope reports an answer that names a missing or wrong scope.
func (e *RetrieveError) asksForScope() bool {
	return e.Code == "invalid_scope" || strings.Contains(strings.ToLower(e.Description), "scope")
}

// retryable reports an answer worth another attempt: 5xx and 429.
func (e *RetrieveError) retryable() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}

// refusedRefresh reports a 4xx answer to a refresh grant: the refresh token
// is dropped and the password grant tried once instead.
func (e *RetrieveError) refusedRefresh() bool {
	return e.grant == "refresh_token" && e.StatusCode >= 400 && e.StatusCode < 500 && e.StatusCode != http.StatusTooManyRequests
}

// excerpt returns at most maxExcerpt bytes of body as valid UTF-8 with the
// characters a terminal would act on (shown.Hidden: controls, bidirectional
// overrides) dropped and runs of white space collapsed to one space.
func excerpt(body []byte) string {
	var b strings.Builder
	space := false
	for len(body) > 0 && b.Len() < maxExcerpt {
		r, n := utf8.DecodeRune(body)
		body = body[n:]
		if r == utf8.RuneError || shown.Hidden(r) || unicode.IsSpace(r) {
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
