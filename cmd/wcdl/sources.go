package main

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/manifest"
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

// lists reports whether a source of the run asks for credential kind.
func (o *options) lists(kind source.Credential) bool {
	for _, s := range o.sources {
		if s.Credential == kind {
			return true
		}
	}
	return false
}

// credentialRoot is the download root whose host receives the credential
// of preset: for a login or a ready-made token, bearerRoot; for SAS tokens,
// the pc source's; else the unnamed --base-url, else Terrascope's.
func credentialRoot(o *options, preset auth.Preset) string {
	if preset.Kind != auth.KindSAS {
		if root := bearerRoot(o); root != "" {
			return root
		}
	}
	for _, s := range o.sources {
		if preset.Kind == auth.KindSAS && s.Credential == source.SAS {
			return s.Root
		}
	}
	if o.baseURL != "" {
		return o.baseURL
	}
	return manifest.DefaultBaseURL
}

// bearerRoot is the download root that a bearer credential (a login's,
// a ready-made token, an API key) can be sent to: that of the listed source
// that asks for a Keycloak login (terrascope), else that of the first
// anonymous source whose root --base-url replaced (a private mirror of
// ESA's bucket may want a token), else "": ESA's public bucket takes no
// credential and the Planetary Computer's blob host takes SAS tokens only.
func bearerRoot(o *options) string {
	for _, s := range o.sources {
		if s.Credential == source.Keycloak {
			return s.Root
		}
	}
	for _, s := range o.sources {
		if def, err := source.Lookup(s.Name); err == nil && s.Anonymous() && s.Root != def.Root {
			return s.Root
		}
	}
	return ""
}

// anonymous is the access of a run that needs no credential: no
// transport is added, no token endpoint is contacted.
func anonymous() *access {
	return &access{
		wrap:  func(base http.RoundTripper) http.RoundTripper { return base },
		stats: func() auth.Stats { return auth.Stats{} },
		close: func(context.Context) error { return nil },
	}
}

// stacked is the access of a run whose sources ask for two credentials
// (--source pc,terrascope): each transport adds its own for its hosts only.
func stacked(a, b *access) *access {
	return &access{
		wrap: func(base http.RoundTripper) http.RoundTripper { return a.wrap(b.wrap(base)) },
		stats: func() auth.Stats {
			x, y := a.stats(), b.stats()
			return auth.Stats{PasswordGrants: x.PasswordGrants + y.PasswordGrants, RefreshGrants: x.RefreshGrants + y.RefreshGrants,
				SASRequests: x.SASRequests + y.SASRequests, FailedRequests: x.FailedRequests + y.FailedRequests}
		},
		close: func(ctx context.Context) error { return errors.Join(a.close(ctx), b.close(ctx)) },
	}
}
