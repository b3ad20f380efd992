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
// of preset: that of the source asking for its kind (terrascope for a
// login or a ready-made token, pc for SAS tokens) when one is listed,
// else the unnamed --base-url, else Terrascope's.
func credentialRoot(o *options, preset auth.Preset) string {
	want := source.Keycloak
	if preset.Kind == auth.KindSAS {
		want = source.SAS
	}
	for _, s := range o.sources {
		if s.Credential == want {
			return s.Root
		}
	}
	if o.baseURL != "" {
		return o.baseURL
	}
	return manifest.DefaultBaseURL
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
