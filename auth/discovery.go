package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Discovery holds the endpoints of an OpenID provider's discovery document
// (.well-known/openid-configuration) that wcdl uses.
type Discovery struct {
	Issuer             string `json:"issuer"`
	TokenEndpoint      string `json:"token_endpoint"`
	RevocationEndpoint string `json:"revocation_endpoint"`
	EndSessionEndpoint string `json:"end_session_endpoint"`
}

// SessionEnd says how Provider.Close ends the session: with Keycloak's
// logout (the refresh token posted to LogoutURL), else by revoking the
// refresh token at RevocationURL (RFC 7009), else not at all.
type SessionEnd struct {
	LogoutURL, RevocationURL string
}

// keycloakToken matches a Keycloak token URL; the first group is the
// realm URL, which is the realm's issuer.
var keycloakToken = regexp.MustCompile(`^(.*/realms/[^/]+)/protocol/openid-connect/token$`)

// KeycloakIssuer returns the issuer (the realm URL) of a Keycloak token
// URL such as https://sso.example/auth/realms/NAME/protocol/openid-connect/token,
// or "" if tokenURL does not have that shape.
func KeycloakIssuer(tokenURL string) string {
	u, err := url.Parse(tokenURL)
	if err != nil || u.Host == "" || u.RawQuery != "" {
		return ""
	}
	m := keycloakToken.FindStringSubmatch(u.Path)
	if m == nil {
		return ""
	}
	u.Path, u.RawPath = m[1], ""
	return u.String()
}

// Discover reads the discovery document of issuer with client (nil means
// one with timeouts that follows no redirect) and checks that it names the
// same issuer and secure endpoints.
func Discover(ctx context.Context, client *http.Client, issuer string) (Discovery, error) {
	var d Discovery
	if client == nil {
		client = defaultClient()
	}
	iu, err := url.Parse(issuer)
	if err != nil || iu.Host == "" || iu.User != nil || iu.RawQuery != "" {
		return d, fmt.Errorf("auth: issuer %q is not an absolute URL without query or credentials", redactRaw(issuer))
	}
	if err := checkEndpoint(issuer); err != nil {
		return d, fmt.Errorf("auth: issuer %s: %w", shownURL(iu), err)
	}
	doc := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, doc, nil)
	if err != nil {
		return d, fmt.Errorf("auth: discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return d, fmt.Errorf("auth: discovery: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return d, fmt.Errorf("auth: discovery document %s: %w", doc, err)
	}
	if resp.StatusCode != http.StatusOK {
		return d, fmt.Errorf("auth: discovery document %s answered %d %s", doc, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return d, fmt.Errorf("auth: discovery document %s is not JSON: %q", doc, excerpt(data))
	}
	if strings.TrimSuffix(d.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return Discovery{}, fmt.Errorf("auth: discovery document %s names issuer %q, not %q", doc, excerpt([]byte(d.Issuer)), issuer)
	}
	for _, e := range []*string{&d.TokenEndpoint, &d.RevocationEndpoint, &d.EndSessionEndpoint} {
		if *e != "" && checkEndpoint(*e) != nil {
			return Discovery{}, fmt.Errorf("auth: discovery document %s: endpoint %q: %w", doc, redactRaw(*e), checkEndpoint(*e))
		}
	}
	return d, nil
}

// SessionEnd returns how to end a session opened at tokenURL, from what d
// advertises: Keycloak's logout for a Keycloak realm that advertises its
// end_session_endpoint, else revocation of the refresh token where a
// revocation_endpoint is advertised, else nothing. (Other providers'
// end_session_endpoint is a browser redirect that takes no refresh token.)
func (d Discovery) SessionEnd(tokenURL string) *SessionEnd {
	if KeycloakIssuer(tokenURL) != "" && d.EndSessionEndpoint != "" {
		return &SessionEnd{LogoutURL: d.EndSessionEndpoint}
	}
	return &SessionEnd{RevocationURL: d.RevocationEndpoint}
}

// checkEndpoint accepts https URLs, and plain http to loopback.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		return errors.New("not an absolute URL")
	case u.User != nil:
		return errors.New("credentials do not belong in the URL")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return ErrInsecureTokenURL
	}
	return errors.New("scheme must be https")
}

// redactRaw returns raw without user information or query.
func redactRaw(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
