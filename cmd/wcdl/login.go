package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"github.com/wcdl/wcdl/auth"
)

// provider builds the shared token provider from the flags, and returns the
// hosts that may receive its tokens.
func (c *command) provider(ctx context.Context, o *options, sim *simulator, log *slog.Logger) (*auth.Provider, []string, error) {
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
	end, err := discover(ctx, o, &preset, log)
	if err != nil {
		return nil, nil, err
	}
	trusted, err := trustedHosts(o, preset)
	if err != nil {
		return nil, nil, err
	}
	// A token URL that would be refused is told before the password is
	// asked for.
	if err := auth.CheckTokenURL(preset.TokenURL); err != nil {
		return nil, nil, err
	}
	tokenURL, err := url.Parse(preset.TokenURL)
	if err != nil {
		return nil, nil, err
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
			Prompt:       c.prompt(ctx),
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
		MaxWait:     o.retryMaxWait,
		Sleep:       c.login.sleep(c.authSleep),
		SessionEnd:  end,
		Logger:      log,
	})
	if err != nil {
		return nil, nil, err
	}
	return p, trusted, nil
}

// prompt returns a no-echo password prompt when standard input and standard
// error are a terminal, and nil otherwise (cron, CI, pipes). The prompt
// gives up as soon as ctx ends (Ctrl-C), with the terminal's echo restored.
func (c *command) prompt(ctx context.Context) func(string) (string, error) {
	in, ok := c.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) || !isTerminal(c.stderr) {
		return nil
	}
	return func(p string) (string, error) {
		fd := int(in.Fd())
		state, err := term.GetState(fd)
		if err != nil {
			return "", err
		}
		fmt.Fprint(c.stderr, p)
		type answer struct {
			b   []byte
			err error
		}
		// ReadPassword cannot be cancelled: on Ctrl-C it is left blocked
		// on standard input, which nothing else reads, and the process
		// ends soon after.
		read := make(chan answer, 1)
		go func() {
			b, err := term.ReadPassword(fd)
			read <- answer{b, err}
		}()
		select {
		case a := <-read:
			fmt.Fprintln(c.stderr)
			return string(a.b), a.err
		case <-ctx.Done():
			_ = term.Restore(fd, state)
			fmt.Fprintln(c.stderr)
			return "", context.Cause(ctx)
		}
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
