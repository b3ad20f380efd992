package downloader

import "net/url"

// redact returns raw for errors and logs: without a query or user
// information, which may hold a signature or a password.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = "…", false
	}
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	return u.String()
}
