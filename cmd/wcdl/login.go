package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/downloader"
	"github.com/wcdl/wcdl/manifest"
)

// provider builds the shared token provider from the flags, and returns the
// hosts that may receive its tokens.
func (c *command) provider(o *options, sim *simulator, log *slog.Logger) (*auth.Provider, []string, error) {
	preset, err := auth.LookupPreset(o.provider)
	if err != nil {
		return nil, nil, fmt.Errorf("--provider: %w", err)
	}
	if o.tokenURL != "" {
		preset.TokenURL = o.tokenURL
	}
	if o.clientID != "" {
		preset.ClientID = o.clientID
	}
	if o.scope != "" {
		preset.Scope = o.scope
	}
	baseURL := o.baseURL
	if baseURL == "" {
		baseURL = manifest.DefaultBaseURL
	}
	base, err := url.Parse(baseURL)
	if err != nil || base.Host == "" {
		return nil, nil, fmt.Errorf("--base-url %q is not an absolute URL", baseURL)
	}
	tokenURL, err := url.Parse(preset.TokenURL)
	if err != nil || tokenURL.Host == "" {
		return nil, nil, fmt.Errorf("--token-url %q is not an absolute URL", preset.TokenURL)
	}

	var creds auth.Credentials
	if sim != nil {
		creds = auth.Credentials{Username: simUser, Password: simPassword}
	} else {
		creds, err = auth.LoadCredentials(auth.CredentialOptions{
			Username:     o.username,
			PasswordFile: o.passwordFile,
			Getenv:       c.getenv,
			Stdin:        c.stdin,
			NetrcPath:    netrcPath(c.getenv),
			TokenHost:    tokenURL.Hostname(),
			Prompt:       c.prompt(),
		})
		if err != nil {
			return nil, nil, err
		}
	}
	p, err := auth.NewProvider(auth.Config{
		TokenURL:    preset.TokenURL,
		ClientID:    preset.ClientID,
		Scope:       preset.Scope,
		Credentials: creds,
		Logger:      log,
	})
	if err != nil {
		return nil, nil, err
	}
	return p, []string{base.Host}, nil
}

// prompt returns a no-echo password prompt when standard input and standard
// error are a terminal, and nil otherwise (cron, CI, pipes).
func (c *command) prompt() func(string) (string, error) {
	in, ok := c.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) || !isTerminal(c.stderr) {
		return nil
	}
	return func(p string) (string, error) {
		fmt.Fprint(c.stderr, p)
		b, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(c.stderr)
		return string(b), err
	}
}

// netrcPath is $NETRC, else ~/.netrc.
func netrcPath(getenv func(string) string) string {
	if p := getenv("NETRC"); p != "" {
		return p
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".netrc")
	}
	return ""
}

// newHTTPClient is the one client every worker shares: the downloader's
// transport (a connection per transfer, HTTP/1.1), wrapped by the auth
// transport that adds bearer tokens for the trusted hosts only. tlsConfig,
// if not nil, sets the CAs trusted (the simulator's).
func newHTTPClient(src auth.TokenSource, trusted []string, workers int, tlsConfig *tls.Config) *http.Client {
	base := downloader.NewTransport(workers, tlsConfig)
	return &http.Client{Transport: &auth.Transport{Source: src, Base: base, Trusted: trusted}}
}
