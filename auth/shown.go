package auth

import (
	"errors"
	"net/url"
)

// shownURL returns u for errors and logs: without user information, query
// or fragment, any of which may hold a secret (a password, an API key in
// ?k=). A dropped query is marked with "…".
func shownURL(u *url.URL) string {
	c := *u
	c.User, c.Fragment, c.RawFragment = nil, "", ""
	if c.RawQuery != "" || c.ForceQuery {
		c.RawQuery, c.ForceQuery = "…", false
	}
	return c.String()
}

// hideURL rewrites the URL that a *url.Error in err quotes to its shown
// form, and returns err.
func hideURL(err error, u *url.URL) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = shownURL(u)
	}
	return err
}
