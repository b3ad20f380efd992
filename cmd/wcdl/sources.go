package main

import (
	"strings"

	"github.com/wcdl/wcdl/source"
)

// checkSources resolves --source and --base-url into o.sources.
func (o *options) checkSources() error {
	srcs, err := source.Parse(o.source, o.baseURLs)
	if err != nil {
		return usageError("--source/--base-url: %v", err)
	}
	o.sources, o.baseURL = srcs, ""
	for _, b := range o.baseURLs {
		if name, _, ok := strings.Cut(b, "="); !ok || strings.ContainsAny(name, "/:") {
			o.baseURL = b
		}
	}
	return nil
}

// needsLogin reports whether the run needs the Keycloak login: a chosen
// source asks for it, and --no-auth is not given. Anonymous sources (aws)
// and plain public URLs need none.
func needsLogin(o *options) bool {
	if o.noAuth {
		return false
	}
	for _, s := range o.sources {
		if s.Credential == source.Keycloak {
			return true
		}
	}
	return false
}
