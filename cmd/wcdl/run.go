package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"golang.org/x/term"
	"golang.org/x/time/rate"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/downloader"
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
		sim = startSimulator()
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
			fmt.Fprintf(c.stdout, "%s\t%s\n", downloader.Redact(e.URL), filepath.Join(o.out, e.Name))
		}
		return exitOK
	}

	provider, trusted, err := c.provider(o, sim, log)
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
	limit, _ := parseRate(o.limitRate) // checked by parseArgs, as are these
	minRate, _ := parseRate(o.minRate)
	maxFileSize, _ := parseRate(o.maxFileSize)
	var limiter *rate.Limiter
	if limit > 0 {
		limiter = rate.NewLimiter(rate.Limit(limit), int(min(limit, 256<<10)))
	}

	ui := newProgress(c.progressMode(o), c.stderr, len(plan.Entries), o.workers)
	d, err := downloader.New(downloader.Config{
		Dir:          o.out,
		Workers:      o.workers,
		Client:       newHTTPClient(provider, trusted, o.workers, sim.tlsConfig()),
		Attempts:     o.retries,
		RetryMaxWait: o.retryMaxWait,
		StallTimeout: o.stallTimeout,
		MinRate:      minRate,
		MaxFileSize:  maxFileSize,
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
	sum := summarize(results, finished.Sub(started), provider.Stats(), d.Progress())
	log.Debug("transfers in flight", "workers", o.workers, "at the end", sum.Concurrency,
		"lowest", sum.ConcurrencyLowest, "answers 429 or 503", sum.Throttled)
	code := exitCode(ctx, runErr, sum)
	if !o.quiet {
		fmt.Fprintln(c.stderr, sum.line())
	}
	switch {
	case code == exitAuth:
		fmt.Fprintf(c.stderr, "wcdl: %s\n", authFailure(runErr))
	case code == exitInterrupted:
		fmt.Fprintln(c.stderr, "wcdl: interrupted; partial files are kept and the next run resumes them")
	case runErr != nil: // a full or read-only output file system
		fmt.Fprintf(c.stderr, "wcdl: the batch was stopped: %v; partial files are kept and the next run resumes them\n", runErr)
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
	case errors.Is(runErr, auth.ErrBadCredentials), errors.Is(runErr, auth.ErrTokenRefused), errors.Is(runErr, auth.ErrBadTokenAnswer):
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
	case errors.Is(err, auth.ErrBadTokenAnswer):
		return fmt.Sprintf("login failed, the batch was stopped: %v", err)
	}
	return "the batch was stopped: " + auth.ErrTokenRefused.Error() + " (the account may lack access to these files)"
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
