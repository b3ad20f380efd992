package auth

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/wcdl/wcdl/internal/shown"
)

// BlobDomain is the domain of Azure Blob storage hosts:
// {account}.blob.core.windows.net.
const BlobDomain = ".blob.core.windows.net"

// SASTokens hands out SAS tokens per storage account and container;
// *SASSource is one.
type SASTokens interface {
	Token(ctx context.Context, account, container string) (string, error)
	Refused(ctx context.Context, account, container, refused string) (string, error)
}

var _ SASTokens = (*SASSource)(nil)

// BlobContainer returns the storage account and container a blob URL
// names: the account is the first label of an https host
// {account}.blob.core.windows.net and the container the first path segment;
// on a loopback host (an emulator such as Azurite) the account is the first
// path segment and the container the second. ok is false for any other URL,
// or names that Azure would not accept.
func BlobContainer(u *url.URL) (account, container string, ok bool) {
	host := strings.ToLower(u.Hostname())
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	switch {
	case strings.EqualFold(u.Scheme, "https") && strings.HasSuffix(host, BlobDomain):
		account = strings.TrimSuffix(host, BlobDomain)
	case isLoopback(u.Hostname()) && len(segs) > 1:
		account, segs = segs[0], segs[1:]
	default:
		return "", "", false
	}
	if len(segs) < 2 || !validAccount(account) || !validContainer(segs[0]) {
		// A container-level or service-level request (no blob name) is
		// not a download.
		return "", "", false
	}
	return account, segs[0], true
}

// validAccount: 3 to 24 lower-case letters and digits.
func validAccount(s string) bool {
	return len(s) >= 3 && len(s) <= 24 && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) < 0
}

// validContainer: 3 to 63 lower-case letters, digits and single hyphens,
// starting and ending with a letter or digit ($root and $web excepted).
func validContainer(s string) bool {
	if s == "$root" || s == "$web" {
		return true
	}
	return len(s) >= 3 && len(s) <= 63 && s[0] != '-' && s[len(s)-1] != '-' && !strings.Contains(s, "--") &&
		strings.IndexFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') }) < 0
}

// SASTransport is an http.RoundTripper that signs requests for blobs on
// trusted Azure Blob storage hosts with a SAS token from Source, appended to
// the URL's query, and renews the token and replays the request once when
// the blob service refuses it (403 AuthenticationFailed).
//
// Each request gets the token of its own account and container, and only
// its own host sees it. A URL that already carries a signature (a "sig"
// parameter) is sent as it is. The caller's request is never modified, and
// the answer's Request is the caller's, so the token never reaches the
// caller either.
type SASTransport struct {
	// Source supplies the tokens.
	Source SASTokens
	// Base makes the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Trusted lists the host patterns (see CheckHostPattern) that receive
	// tokens; nil means "*.blob.core.windows.net". Whatever it says, a
	// token goes only to a blob host over https, or to an emulator on
	// loopback.
	Trusted []string
}

// RoundTrip implements http.RoundTripper.
func (t *SASTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	account, container, ok := t.signs(req.URL)
	if !ok {
		return base.RoundTrip(req)
	}
	ctx := req.Context()
	tok, err := t.Source.Token(ctx, account, container)
	if err != nil {
		closeBody(req)
		return nil, fmt.Errorf("auth: SAS token for %s: %w", where(req), err)
	}
	resp, err := base.RoundTrip(withSAS(req, tok))
	if err != nil {
		return nil, err
	}
	if !sasRefused(resp) {
		resp.Request = req
		return resp, nil
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	if hasBody && req.GetBody == nil {
		resp.Request = req
		return resp, nil
	}
	discard(resp)
	tok, err = t.Source.Refused(ctx, account, container, tok)
	if err != nil {
		return nil, fmt.Errorf("auth: renewing the refused SAS token for %s: %w", where(req), err)
	}
	replay := withSAS(req, tok)
	if hasBody {
		if replay.Body, err = req.GetBody(); err != nil {
			return nil, fmt.Errorf("auth: replaying %s: %w", where(req), err)
		}
	}
	resp, err = base.RoundTrip(replay)
	if err != nil {
		return nil, err
	}
	if sasRefused(resp) {
		status, code := shown.Text(resp.Status), resp.Header.Get("x-ms-error-code") // the reason phrase is the server's
		discard(resp)
		return nil, fmt.Errorf("auth: %s answered %s (%s) to a renewed SAS token: %w", where(req), status, excerpt([]byte(code)), ErrTokenRefused)
	}
	resp.Request = req
	return resp, nil
}

// signs reports the account and container whose token a request to u
// carries, if any.
func (t *SASTransport) signs(u *url.URL) (account, container string, ok bool) {
	if q := u.Query(); q.Has("sig") {
		return "", "", false
	}
	account, container, ok = BlobContainer(u)
	if !ok {
		return "", "", false
	}
	trusted := t.Trusted
	if trusted == nil {
		trusted = []string{"*" + BlobDomain}
	}
	if !slices.ContainsFunc(trusted, func(p string) bool { return matchHost(p, u.Scheme, u.Host) }) {
		return "", "", false
	}
	return account, container, true
}

// withSAS returns a copy of req whose URL carries tok after its own query.
func withSAS(req *http.Request, tok string) *http.Request {
	r := req.Clone(req.Context())
	u := *req.URL
	if u.RawQuery != "" {
		u.RawQuery += "&" + tok
	} else {
		u.RawQuery = tok
	}
	r.URL = &u
	return r
}

// sasRefusals are the x-ms-error-code values of a 403 that a new token may
// cure: Azure answers AuthenticationFailed to an expired or forged
// signature, and Azurite answers AuthorizationFailure to the same.
var sasRefusals = []string{"AuthenticationFailed", "AuthorizationFailure"}

// maxErrorPeek bounds how much of a 403 body without x-ms-error-code is
// read to find its error code.
const maxErrorPeek = 16 << 10

// sasRefused reports a 403 whose error code (header, or the <Code> of the
// error document when the header is missing) says the signature was not
// accepted. A body it reads is put back.
func sasRefused(resp *http.Response) bool {
	if resp.StatusCode != http.StatusForbidden {
		return false
	}
	if code := resp.Header.Get("x-ms-error-code"); code != "" {
		return slices.Contains(sasRefusals, code)
	}
	peek, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorPeek))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(peek), resp.Body), resp.Body}
	return slices.ContainsFunc(sasRefusals, func(c string) bool {
		return bytes.Contains(peek, []byte("<Code>"+c+"</Code>"))
	})
}
