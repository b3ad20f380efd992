package auth

import (
	"fmt"
	"net"
	"strings"
)

// A host pattern names the hosts a token may go to: "host" or "host:port",
// as in URL.Host, or "*.domain" (with an optional port) for every host
// under domain, at any depth, but not domain itself. A pattern without a
// port matches the default port of the request's scheme only.

// CheckHostPattern reports whether p is a usable host pattern: no scheme,
// path or user information, and a wildcard only as the first label of a
// domain of at least two labels ("*.example.org", not "*.org" or "*").
func CheckHostPattern(p string) error {
	host := p
	if h, _, err := net.SplitHostPort(p); err == nil {
		host = h
	}
	switch {
	case p == "" || host == "":
		return fmt.Errorf("host pattern %q is empty", p)
	case strings.ContainsAny(p, "/@?#") || strings.Contains(p, "://"):
		return fmt.Errorf("host pattern %q must be a host such as files.example.org or *.example.org, not a URL", p)
	case strings.Count(host, "*") == 0:
		return nil
	case strings.Count(host, "*") > 1 || !strings.HasPrefix(host, "*."):
		return fmt.Errorf("host pattern %q: a wildcard may only stand for the first labels, as in *.example.org", p)
	case strings.Count(host, ".") < 2:
		return fmt.Errorf("host pattern %q is too broad: name a domain of at least two labels, as in *.example.org", p)
	}
	return nil
}

// matchHost reports whether host (as in URL.Host) of a request made with
// scheme matches pattern.
func matchHost(pattern, scheme, host string) bool {
	want := hostPort(scheme, pattern)
	got := hostPort(scheme, host)
	if !strings.HasPrefix(want, "*.") {
		return want == got
	}
	wh, wp, _ := net.SplitHostPort(want)
	gh, gp, _ := net.SplitHostPort(got)
	return wp == gp && strings.HasSuffix(gh, wh[1:]) && len(gh) > len(wh)-1
}
