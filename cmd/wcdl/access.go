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
	"github.com/wcdl/wcdl/source"
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

// access chooses the run's credentials. None with --no-auth, or when
// every source is anonymous (--source aws) and no ready-made credential is
// given: no password is asked for and no token endpoint contacted.
// Otherwise, for the sources that ask for the --provider's kind
// (terrascope), or when a ready-made credential is given: a SAS token
// endpoint for a provider of kind "sas" (--provider pc), the ready-made
// credential (--token-file, WCDL_TOKEN, --api-key-header with
// WCDL_API_KEY), else the Keycloak login; and SAS tokens for the pc source
// when the provider's credential is not already them. A ready-made
// credential that no host would receive (--source aws or pc, with no
// mirror of the bucket and no --auth-host) is a usage error.
func (c *command) access(ctx context.Context, o *options, sim *simulator, con *console, log *slog.Logger) (*access, error) {
	preset, err := auth.LookupPreset(o.provider)
	if err != nil {
		return nil, fmt.Errorf("--provider: %w", err)
	}
	use := c.credentialUse(o)
	ready := use.ready
	if ready && !o.noAuth && preset.Kind != auth.KindSAS && bearerRoot(o) == "" && len(o.authHosts) == 0 {
		return nil, usageError("%s would reach no host: no source in --source %s takes a bearer token or an API key "+
			"(terrascope takes a login or a ready-made token; aws, ESA's public bucket, takes none; pc takes SAS tokens from its own token endpoint). "+
			"List terrascope, give --base-url aws=URL for a mirror that wants it, or drop it",
			strings.Join(c.readyGiven(o), ", "), o.source)
	}
	login, sas := use.login, use.sas
	switch {
	case !login && !sas:
		return anonymous(), nil
	case !login || (sas && preset.Kind != auth.KindSAS):
		pc, err := auth.LookupPreset("pc")
		if err != nil {
			return nil, err
		}
		if login {
			return c.withSAS(ctx, o, preset, ready, pc, sim, con, log)
		}
		sasOpts := *o
		sasOpts.tokenURL = sim.sasTokenURL(o.tokenURL)
		return sasAccess(&sasOpts, pc, c.getenv(envSubscriptionKey), c.authSleep, log)
	}
	return c.credential(ctx, o, preset, ready, sim, con, log)
}

// credentialUse is what a run authenticates with, as its options and
// environment say; none of it with --no-auth.
type credentialUse struct {
	// login: the --provider's credential, for the sources that ask for
	// its kind (terrascope) or because one is given ready-made.
	login bool
	// ready: that credential is ready-made (--token-file, WCDL_TOKEN, an
	// API key), so there is no login.
	ready bool
	// sas: SAS tokens for the pc source.
	sas bool
}

func (c *command) credentialUse(o *options) credentialUse {
	ready := o.tokenFile != "" || c.getenv(envToken) != "" || o.apiKeyHeader != "" || c.getenv(envAPIKey) != ""
	if o.noAuth {
		return credentialUse{ready: ready}
	}
	return credentialUse{login: o.lists(source.Keycloak) || ready, ready: ready, sas: o.lists(source.SAS)}
}

// withSAS is the --provider's credential for its sources, with SAS tokens
// from the Planetary Computer (pc) for the pc source.
func (c *command) withSAS(ctx context.Context, o *options, preset auth.Preset, ready bool, pc auth.Preset, sim *simulator, con *console, log *slog.Logger) (*access, error) {
	first, err := c.credential(ctx, o, preset, ready, sim, con, log)
	if err != nil {
		return nil, err
	}
	sasOpts := *o
	sasOpts.tokenURL = sim.sasTokenURL("") // --token-url is the login's
	second, err := sasAccess(&sasOpts, pc, c.getenv(envSubscriptionKey), c.authSleep, log)
	if err != nil {
		return nil, err
	}
	return stacked(first, second), nil
}

// credential is the --provider's credential (preset), or the ready-made
// one given.
func (c *command) credential(ctx context.Context, o *options, preset auth.Preset, ready bool, sim *simulator, con *console, log *slog.Logger) (*access, error) {
	switch {
	case preset.Kind == auth.KindSAS && ready:
		return nil, fmt.Errorf("--provider %s takes SAS tokens from its token endpoint: it needs no --token-file, %s or API key", preset.Name, envToken)
	case sim != nil && (preset.Kind == auth.KindSAS || ready):
		return nil, fmt.Errorf("--simulate simulates a Keycloak login only: drop %s", c.notSimulated(o, preset))
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

// notSimulated names the credential settings given that --simulate cannot
// serve, so that the advice names only what the user set.
func (c *command) notSimulated(o *options, preset auth.Preset) string {
	var given []string
	if preset.Kind == auth.KindSAS {
		given = append(given, "--provider "+preset.Name)
	}
	return strings.Join(append(given, c.readyGiven(o)...), ", ")
}

// readyGiven names the ready-made credential settings given.
func (c *command) readyGiven(o *options) []string {
	var given []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"--token-file", o.tokenFile != ""}, {envToken, c.getenv(envToken) != ""},
		{"--api-key-header", o.apiKeyHeader != ""}, {envAPIKey, c.getenv(envAPIKey) != ""},
	} {
		if f.set {
			given = append(given, f.name)
		}
	}
	return given
}

// trustedHosts returns the hosts that may receive the credential: the
// download service's (credentialRoot), the preset's, and --auth-host
// patterns.
func trustedHosts(o *options, preset auth.Preset) ([]string, error) {
	baseURL := credentialRoot(o, preset)
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
	// --no-auth would ignore them: say so rather than run without the
	// credential the user meant to send.
	if !o.noAuth {
		return nil
	}
	for _, f := range []struct{ name, value string }{
		{"--token-file", o.tokenFile}, {"--api-key-header", o.apiKeyHeader}, {"--password-file", o.passwordFile},
	} {
		if f.value != "" {
			return usageError("--no-auth sends no credential, so %s would be ignored: drop one of them", f.name)
		}
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
