package auth

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/wcdl/wcdl/internal/shown"
)

// loginPath marks the identity provider's interactive login page, where a
// service redirects requests that arrive without a valid token.
const loginPath = "/protocol/openid-connect/auth"

// Transport is an http.RoundTripper that adds "Authorization: Bearer" with
// a token from Source to requests for trusted hosts, and retries such a
// request once with a renewed token when the service refuses it.
//
// Requests to other hosts pass through unchanged; since an http.Client
// sends every redirect hop through RoundTrip as a new request, a redirect
// to another host never carries the token either. The caller's request is
// never modified.
type Transport struct {
	// Source supplies the tokens.
	Source TokenSource
	// Base makes the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Trusted lists the hosts that receive the token, as in URL.Host:
	// "host" or "host:port", or a pattern "*.domain" for the hosts under
	// domain (see CheckHostPattern). A host without a port matches the
	// default port of the request's scheme only. The token goes over https only,
	// or over plain http to a loopback host (tests, the simulator).
	Trusted []string
	// LoginHosts lists the identity provider's hosts. A redirect from a
	// trusted host to another host among them, or to any URL whose path
	// contains "/protocol/openid-connect/auth", counts as a 401; a redirect
	// within the trusted host itself is followed unless it goes to that
	// login path. When empty and
	// Source is a *Provider, the host of its token URL is used.
	LoginHosts []string
	// Header, if not empty, names the header that carries the token as
	// it is, such as an API key header (MAXAR-API-KEY); empty means
	// "Authorization: Bearer <token>".
	Header string
}

// RoundTrip implements http.RoundTripper.
//
// On a 401 (or a redirect to the login page) from a trusted host it drains
// and closes the answer, reports the token with Source.Refused and replays
// the request once; a request with a body is replayed only if it has
// GetBody, otherwise the refusal is returned as it is. A second refusal
// returns an error wrapping ErrTokenRefused.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if !t.trusted(req.URL) {
		return base.RoundTrip(req)
	}
	ctx := req.Context()
	tok, err := t.Source.Token(ctx)
	if err != nil {
		closeBody(req)
		return nil, fmt.Errorf("auth: token for %s: %w", where(req), err)
	}
	resp, err := base.RoundTrip(t.withToken(req, tok))
	if err != nil || !t.refused(resp) {
		return resp, err
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	if hasBody && req.GetBody == nil {
		return resp, nil
	}
	discard(resp)
	tok, err = t.Source.Refused(ctx, tok)
	if err != nil {
		return nil, fmt.Errorf("auth: renewing the refused token for %s: %w", where(req), err)
	}
	replay := t.withToken(req, tok)
	if hasBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("auth: replaying %s: %w", where(req), err)
		}
		replay.Body = body
	}
	resp, err = base.RoundTrip(replay)
	if err != nil {
		return nil, err
	}
	if t.refused(resp) {
		status := shown.Text(resp.Status) // the reason phrase is the server's
		discard(resp)
		return nil, fmt.Errorf("auth: %s answered %s to a renewed token: %w", where(req), status, ErrTokenRefused)
	}
	return resp, nil
}

// withToken returns a copy of req carrying tok.
func (t *Transport) withToken(req *http.Request, tok string) *http.Request {
	r := req.Clone(req.Context())
	if t.Header != "" {
		r.Header.Set(t.Header, tok)
	} else {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return r
}

// where names a request in errors without its query, which may hold a
// signature.
func where(req *http.Request) string {
	u := *req.URL
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return req.Method + " " + u.String()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// discard drains a little of resp's body, so the connection can be reused,
// and closes it.
func discard(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

// trusted reports whether a request to u may carry the token: its host is
// trusted and the connection is encrypted, or stays on this machine.
func (t *Transport) trusted(u *url.URL) bool {
	if !strings.EqualFold(u.Scheme, "https") && !isLoopback(u.Hostname()) {
		return false
	}
	return slices.ContainsFunc(t.Trusted, func(p string) bool { return matchHost(p, u.Scheme, u.Host) })
}

// hostPort returns host in lower case with the scheme's default port added
// when it has none.
func hostPort(scheme, host string) string {
	host = strings.ToLower(host)
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	port := "443"
	if strings.EqualFold(scheme, "http") {
		port = "80"
	}
	return net.JoinHostPort(host, port)
}

// refused reports a 401, or a redirect to the identity provider's login.
func (t *Transport) refused(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return true
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return false
	}
	loc, err := resp.Location()
	if err != nil {
		return false
	}
	if strings.Contains(loc.Path, loginPath) {
		return true
	}
	// When the identity provider shares the service's host, a redirect
	// within that host is an ordinary redirect: only the login page above
	// means a refused token.
	if r := resp.Request; r != nil && hostPort(loc.Scheme, loc.Host) == hostPort(r.URL.Scheme, r.URL.Host) {
		return false
	}
	hosts := t.LoginHosts
	if p, ok := t.Source.(*Provider); ok && len(hosts) == 0 {
		hosts = []string{p.tokenURL.Host}
	}
	return slices.ContainsFunc(hosts, func(h string) bool {
		return hostPort(loc.Scheme, h) == hostPort(loc.Scheme, loc.Host)
	})
}
