package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"golang.org/x/term"
	"golang.org/x/time/rate"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/downloader"
	"github.com/wcdl/wcdl/manifest"
)

// Exit codes. README.md documents them; scripts depend on them.
const (
	exitOK          = 0   // every entry downloaded, skipped or missing as allowed
	exitFailed      = 1   // at least one entry failed; the others were done
	exitUsage       = 2   // bad flags or manifest; nothing was downloaded
	exitAuth        = 3   // the login failed or the service kept refusing tokens
	exitInterrupted = 130 // SIGINT or SIGTERM; .part files are kept for the next run
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); otherwise
// it comes from the module's build information.
var version = ""

// run is the whole command: it reads args, does the work and returns the
// exit code. All output goes to the writers passed in.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &command{
		getenv: os.Getenv,
		stdin:  stdin,
		stdout: stdout,
		stderr: stderr,
	}
	return c.run(ctx, args)
}

// command carries the process's surroundings, so tests can give it their
// own environment and writers.
type command struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	// simulated is called with the simulator's services once they are up
	// (tests use it to reach the fakes' counters); nil in production.
	simulated func(*simulator)
}

func (c *command) run(ctx context.Context, args []string) int {
	o, fs, err := parseArgs(args, c.getenv)
	if err != nil {
		fmt.Fprintf(c.stderr, "wcdl: %v\nRun 'wcdl --help' for usage.\n", err)
		return exitUsage
	}
	if o.help {
		fmt.Fprintf(c.stdout, "Usage: wcdl [flags] -m MANIFEST | --bbox W,S,E,N\n\n%s\nEvery flag can also be set as WCDL_<NAME> in the environment (for example WCDL_WORKERS=8);\na flag on the command line wins. See README.md for the manifest format and exit codes.\n", fs.FlagUsages())
		return exitOK
	}
	if o.version {
		fmt.Fprintf(c.stdout, "wcdl %s\n", buildVersion())
		return exitOK
	}
	log := c.newLogger(o)
	if len(o.manifests) == 0 && o.bbox == "" {
		fmt.Fprintf(c.stderr, "wcdl: nothing to download: give a manifest with -m FILE or a box with --bbox W,S,E,N\nRun 'wcdl --help' for usage.\n")
		return exitUsage
	}

	var sim *simulator
	if o.simulate && !o.dryRun {
		if sim, err = startSimulator(); err != nil {
			fmt.Fprintf(c.stderr, "wcdl: starting the simulator: %v\n", err)
			return exitFailed
		}
		defer sim.Close()
		if c.simulated != nil {
			c.simulated(sim)
		}
		o.tokenURL, o.clientID, o.scope, o.baseURL = sim.kc.TokenURL(), simClient, "", sim.ts.URL()
		log.Info("simulating: using a built-in Keycloak and download service on loopback, with demo credentials",
			"token_url", o.tokenURL, "base_url", o.baseURL)
	}

	plan, err := c.plan(o, log)
	if err != nil {
		fmt.Fprintf(c.stderr, "wcdl: %v\n", err)
		return exitUsage
	}
	if o.dryRun {
		for _, e := range plan.Entries {
			fmt.Fprintf(c.stdout, "%s\t%s\n", e.URL, filepath.Join(o.out, e.Name))
		}
		return exitOK
	}

	provider, trusted, err := c.provider(o, sim)
	if err != nil {
		fmt.Fprintf(c.stderr, "wcdl: %v\n", err)
		return exitUsage
	}
	defer func() {
		// End the Keycloak session even after an interrupt, but do not let
		// an unreachable server hold up the exit.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := provider.Close(ctx); err != nil {
			log.Debug("ending the login session", "err", err)
		}
	}()

	if err := os.MkdirAll(o.out, 0o755); err != nil {
		fmt.Fprintf(c.stderr, "wcdl: creating the output folder: %v\n", err)
		return exitFailed
	}
	limit, _ := parseRate(o.limitRate) // checked by parseArgs
	var limiter *rate.Limiter
	if limit > 0 {
		limiter = rate.NewLimiter(rate.Limit(limit), int(min(limit, 256<<10)))
	}

	ui := newProgress(c.progressMode(o), c.stderr, len(plan.Entries), o.workers)
	d, err := downloader.New(downloader.Config{
		Dir:          o.out,
		Workers:      o.workers,
		Client:       newHTTPClient(provider, trusted, o.workers),
		Attempts:     o.retries,
		RetryMaxWait: o.retryMaxWait,
		Limiter:      limiter,
		Force:        o.force,
		Logger:       log,
		OnResult:     ui.result,
	})
	if err != nil {
		fmt.Fprintf(c.stderr, "wcdl: %v\n", err)
		return exitUsage
	}

	started := time.Now()
	ui.start(d.Progress)
	results, runErr := d.Run(ctx, plan.Entries)
	ui.stop()
	finished := time.Now()

	if ui.mode == "none" && !o.quiet {
		// No progress lines were shown, but failures are not progress.
		for _, r := range results {
			if r.Status == downloader.Failed {
				fmt.Fprintln(c.stderr, resultLine(r))
			}
		}
	}
	sum := summarize(results, finished.Sub(started), provider.Stats())
	code := exitCode(ctx, runErr, sum)
	if !o.quiet {
		fmt.Fprintln(c.stderr, sum.line())
	}
	switch {
	case code == exitAuth:
		fmt.Fprintf(c.stderr, "wcdl: %s\n", authFailure(runErr))
	case code == exitInterrupted:
		fmt.Fprintln(c.stderr, "wcdl: interrupted; partial files are kept and the next run resumes them")
	}
	if o.report != "" {
		rep := newReport(o, started, finished, sum, code, results)
		if err := rep.write(o.report, c.stdout); err != nil {
			fmt.Fprintf(c.stderr, "wcdl: writing the report: %v\n", err)
			if code == exitOK {
				code = exitFailed
			}
		}
	}
	return code
}

// exitCode maps the run's outcome to the documented exit codes.
func exitCode(ctx context.Context, runErr error, sum summary) int {
	switch {
	case errors.Is(runErr, auth.ErrBadCredentials), errors.Is(runErr, auth.ErrTokenRefused):
		return exitAuth
	case ctx.Err() != nil:
		return exitInterrupted
	case runErr != nil, sum.Failed > 0:
		return exitFailed
	}
	return exitOK
}

// authFailure says in one line why the batch stopped for authentication.
func authFailure(err error) string {
	var re *auth.RetrieveError
	switch {
	case errors.As(err, &re):
		return fmt.Sprintf("login failed, the batch was stopped: %v", re)
	case errors.Is(err, auth.ErrBadCredentials):
		return "login failed, the batch was stopped: " + auth.ErrBadCredentials.Error()
	}
	return "the batch was stopped: " + auth.ErrTokenRefused.Error() + " (the account may lack access to these files)"
}

// plan reads every manifest and the bounding box into one checked plan, and
// keeps this machine's shard of it.
func (c *command) plan(o *options, log *slog.Logger) (*manifest.Plan, error) {
	years, err := manifest.ParseYears(o.years)
	if err != nil {
		return nil, fmt.Errorf("--year: %w", err)
	}
	layers, err := manifest.ParseLayers(o.layers)
	if err != nil {
		return nil, fmt.Errorf("--layer: %w", err)
	}
	mo := manifest.Options{Years: years, Layers: layers, BaseURL: o.baseURL}
	var (
		groups [][]manifest.Entry
		errs   []error
	)
	// Parse everything, keeping the good entries of bad files too, so that
	// one run reports every error: bad lines, then duplicates and
	// collisions between the good ones.
	for _, name := range o.manifests {
		entries, err := c.parseManifest(name, mo)
		if err != nil {
			errs = append(errs, err)
		}
		groups = append(groups, entries)
	}
	if o.bbox != "" {
		entries, err := manifest.ParseBBox(o.bbox, mo)
		if err != nil {
			errs = append(errs, fmt.Errorf("--bbox: %w", err))
		}
		groups = append(groups, entries)
	}
	plan, err := manifest.NewPlan(groups...)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("nothing was downloaded, the manifest has errors:\n%w", errors.Join(errs...))
	}
	for _, w := range plan.Warnings {
		log.Warn(w)
	}
	if o.shard != "" {
		k, n, err := manifest.ParseShard(o.shard)
		if err != nil {
			return nil, fmt.Errorf("--shard: %w", err)
		}
		plan = plan.Shard(k, n)
	}
	return plan, nil
}

// parseManifest parses one manifest file, or standard input for "-".
func (c *command) parseManifest(name string, mo manifest.Options) ([]manifest.Entry, error) {
	if name == "-" {
		return manifest.Parse(c.stdin, "-", mo)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return manifest.Parse(f, name, mo)
}

// provider builds the shared token provider from the flags, and returns the
// hosts that may receive its tokens.
func (c *command) provider(o *options, sim *simulator) (*auth.Provider, []string, error) {
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

// newHTTPClient is the one client every worker shares: a transport tuned for
// a few long downloads to one host, wrapped by the auth transport that adds
// bearer tokens for the trusted hosts only.
func newHTTPClient(src auth.TokenSource, trusted []string, workers int) *http.Client {
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2 * workers,
		MaxIdleConnsPerHost:   2 * workers,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		ExpectContinueTimeout: time.Second,
		// Files are fetched byte for byte: a transparent gzip would break
		// Content-Length checks and Range resumes.
		DisableCompression: true,
		ReadBufferSize:     128 << 10,
	}
	return &http.Client{Transport: &auth.Transport{Source: src, Base: base, Trusted: trusted}}
}

// newLogger logs to stderr at the level that -q and -v choose.
func (c *command) newLogger(o *options) *slog.Logger {
	level := slog.LevelInfo
	switch {
	case o.quiet:
		level = slog.LevelError
	case o.verbose:
		level = slog.LevelDebug
	}
	ho := &slog.HandlerOptions{Level: level}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(c.stderr, ho))
	}
	return slog.New(slog.NewTextHandler(c.stderr, ho))
}

// progressMode resolves --progress auto and --quiet to a concrete mode.
func (c *command) progressMode(o *options) string {
	switch {
	case o.quiet:
		return "none"
	case o.progress != "auto":
		return o.progress
	case isTerminal(c.stderr):
		return "bar"
	}
	return "plain"
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// buildVersion is the version set at link time, else the module version.
func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
