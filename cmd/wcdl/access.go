package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/downloader"
	"github.com/wcdl/wcdl/manifest"
)

// Environment variables that hold credentials. They are never flags: argv
// is visible to every user of the machine.
const (
	envToken           = "WCDL_TOKEN"
	envAPIKey          = "WCDL_API_KEY"
	envSubscriptionKey = "WCDL_PC_SUBSCRIPTION_KEY"
)

// expirySoon is how near a ready-made JWT's expiry must be for a warning.
const expirySoon = 15 * time.Minute

// access is how a run authenticates its downloads, whatever the kind of
// credential: the RoundTripper that adds it to requests for trusted hosts,
// the token request counts for the report, and the end of the session.
type access struct {
	// wrap returns the transport that adds the credential on top of base.
	wrap func(base http.RoundTripper) http.RoundTripper
	// stats returns the token requests made so far.
	stats func() auth.Stats
	// close ends the login session, if there is one.
	close func(ctx context.Context) error
}

// access chooses the run's credential: a SAS token endpoint for a provider
// of kind "sas" (--provider pc), a ready-made credential (--token-file,
// WCDL_TOKEN, --api-key-header with WCDL_API_KEY), else the Keycloak login.
func (c *command) access(ctx context.Context, o *options, sim *simulator, con *console, log *slog.Logger) (*access, error) {
	preset, err := auth.LookupPreset(o.provider)
	if err != nil {
		return nil, fmt.Errorf("--provider: %w", err)
	}
	ready := o.tokenFile != "" || c.getenv(envToken) != "" || o.apiKeyHeader != "" || c.getenv(envAPIKey) != ""
	switch {
	case preset.Kind == auth.KindSAS && ready:
		return nil, fmt.Errorf("--provider %s takes SAS tokens from its token endpoint: it needs no --token-file, %s or API key", preset.Name, envToken)
	case sim != nil && (preset.Kind == auth.KindSAS || ready):
		return nil, fmt.Errorf("--simulate simulates a Keycloak login only: drop --provider %s, --token-file, %s and %s", o.provider, envToken, envAPIKey)
	case preset.Kind == auth.KindSAS:
		return sasAccess(o, preset, c.getenv(envSubscriptionKey), c.authSleep, log)
	case ready:
		return c.readyAccess(o, preset, con)
	}
	p, trusted, err := c.provider(ctx, o, sim, log)
	if err != nil {
		return nil, err
	}
	return &access{
		wrap: func(base http.RoundTripper) http.RoundTripper {
			return &auth.Transport{Source: p, Base: base, Trusted: trusted}
		},
		stats: p.Stats,
		close: p.Close,
	}, nil
}

// trustedHosts returns the hosts that may receive the credential: the
// download service's, the preset's, and --auth-host patterns.
func trustedHosts(o *options, preset auth.Preset) ([]string, error) {
	baseURL := o.baseURL
	if baseURL == "" {
		baseURL = manifest.DefaultBaseURL
	}
	base, err := url.Parse(baseURL)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("--base-url %q is not an absolute URL", baseURL)
	}
	trusted := append([]string{base.Host}, preset.AuthHosts...)
	return append(trusted, o.authHosts...), nil
}

// sasAccess signs Azure Blob requests with SAS tokens from the preset's
// token endpoint (or --token-url): one token per storage account and
// container, renewed before it expires, sent only to that account's blob
// host among the trusted hosts. The sources that serve from Azure Blob
// storage (the Planetary Computer) use it.
func sasAccess(o *options, preset auth.Preset, subscriptionKey string, sleep func(context.Context, time.Duration) error, log *slog.Logger) (*access, error) {
	tokenURL := preset.TokenURL
	if o.tokenURL != "" {
		tokenURL = o.tokenURL
	}
	src, err := auth.NewSASSource(auth.SASConfig{
		TokenURL:        tokenURL,
		SubscriptionKey: subscriptionKey,
		MaxWait:         o.retryMaxWait,
		Sleep:           sleep,
		Logger:          log,
	})
	if err != nil {
		return nil, err
	}
	trusted, err := trustedHosts(o, preset)
	if err != nil {
		return nil, err
	}
	return &access{
		wrap: func(base http.RoundTripper) http.RoundTripper {
			return &auth.SASTransport{Source: src, Base: base, Trusted: trusted}
		},
		stats: src.Stats,
		close: func(context.Context) error { return nil },
	}, nil
}

// readyAccess sends a credential given ready-made: a bearer token from
// --token-file (read again when it changes) or WCDL_TOKEN, or an API key
// from WCDL_API_KEY in the header --api-key-header names. There is no
// login; a refusal ends the run with exit 3.
func (c *command) readyAccess(o *options, preset auth.Preset, con *console) (*access, error) {
	tok, key := c.getenv(envToken), c.getenv(envAPIKey)
	var (
		src    auth.TokenSource
		header string
		err    error
	)
	warn := func(what string) func(string) {
		return func(tok string) {
			if w := auth.ExpiryWarning(tok, what, time.Now(), expirySoon); w != "" && !o.quiet {
				con.warn(w)
			}
		}
	}
	switch {
	case (o.apiKeyHeader != "") != (key != ""):
		return nil, fmt.Errorf("an API key needs both --api-key-header NAME and %s", envAPIKey)
	case o.apiKeyHeader != "" && (tok != "" || o.tokenFile != ""):
		return nil, fmt.Errorf("give one credential: an API key (%s) or a bearer token (%s, --token-file), not both", envAPIKey, envToken)
	case o.tokenFile != "" && tok != "":
		return nil, fmt.Errorf("give one bearer token: --token-file or %s, not both", envToken)
	case o.apiKeyHeader != "":
		src, err = auth.NewStaticToken(key, "the API key from "+envAPIKey)
		header = o.apiKeyHeader
	case o.tokenFile != "":
		src, err = auth.NewTokenFile(o.tokenFile, warn("the token in "+o.tokenFile))
	default:
		warn("the token from " + envToken)(tok)
		src, err = auth.NewStaticToken(tok, "the token from "+envToken)
	}
	if err != nil {
		return nil, err
	}
	trusted, err := trustedHosts(o, preset)
	if err != nil {
		return nil, err
	}
	return &access{
		wrap: func(base http.RoundTripper) http.RoundTripper {
			return &auth.Transport{Source: src, Base: base, Trusted: trusted, Header: header}
		},
		stats: func() auth.Stats { return auth.Stats{} },
		close: func(context.Context) error { return nil },
	}, nil
}

// checkAccess rejects credential flags that cannot work.
func (o *options) checkAccess() error {
	// A header name is an RFC 9110 token.
	notToken := func(r rune) bool {
		return r > '~' || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	}
	if o.apiKeyHeader != "" && strings.IndexFunc(o.apiKeyHeader, notToken) >= 0 {
		return usageError("--api-key-header %q is not an HTTP header name", o.apiKeyHeader)
	}
	return nil
}

// newClient is the one client every worker shares: the downloader's
// transport (a connection per transfer, HTTP/1.1), wrapped by the one that
// adds the credential for the trusted hosts only. tlsConfig, if not nil,
// sets the CAs trusted (the simulator's); dial, if not nil, replaces the
// dialer (tests).
func newClient(acc *access, workers int, tlsConfig *tls.Config, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	base := downloader.NewTransport(workers, tlsConfig)
	if dial != nil {
		base.DialContext = dial
	}
	return &http.Client{Transport: acc.wrap(base)}
}
