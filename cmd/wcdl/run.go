package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/term"
	"golang.org/x/time/rate"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/downloader"
	"github.com/wcdl/wcdl/internal/shown"
)

// Exit codes. README.md documents them; scripts depend on them.
const (
	exitOK          = 0   // every entry downloaded, skipped or missing as allowed
	exitFailed      = 1   // at least one entry failed; the others were done
	exitUsage       = 2   // bad flags or manifest; nothing was downloaded
	exitAuth        = 3   // the login failed or the service kept refusing tokens
	exitUnreachable = 4   // the download service could not be reached at all
	exitInterrupted = 130 // SIGINT or SIGTERM; .part files are kept for the next run
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); otherwise
// it comes from the module's build information.
var version = ""

// run is the whole command: it reads args, does the work and returns the
// exit code. All output goes to the writers passed in.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &command{
		getenv:  os.Getenv,
		environ: os.Environ,
		stdin:   stdin,
		stdout:  stdout,
		stderr:  stderr,
	}
	return c.run(ctx, args)
}

// command carries the process's surroundings, so tests can give it their
// own environment and writers.
type command struct {
	getenv func(string) string
	// environ lists the environment, to warn about WCDL_ variables wcdl
	// does not read; nil: none are checked.
	environ func() []string
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer

	// simulated is called with the simulator's services once they are up
	// (tests use it to reach the fakes' counters); nil in production.
	simulated func(*simulator)
	// authSleep, when set, replaces the waits between token requests
	// (tests record them instead of waiting); nil in production.
	authSleep func(ctx context.Context, d time.Duration) error
	// dial, when set, replaces the download client's dialer (tests use it
	// to make a name that does not resolve); nil in production.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// simPort, if not 0, replaces simPort (tests use a port of their own).
	simPort int
	// login watches the provider's waits between attempts, for the bar.
	login *loginWatch
}

func (c *command) run(ctx context.Context, args []string) int {
	o, fs, err := parseArgs(args, c.getenv)
	if err != nil {
		newConsole(c.stderr, jsonRequested(args, c.getenv)).errorf("Run 'wcdl --help' for usage.", "%v", err)
		return exitUsage
	}
	if o.help {
		fmt.Fprintf(c.stdout, "Usage: wcdl [flags] -m MANIFEST | --bbox W,S,E,N | --aoi AREA.geojson\n\n%s\n%sEvery flag can also be set as WCDL_<NAME> in the environment (for example WCDL_WORKERS=8);\na flag on the command line wins. See README.md for the manifest format and exit codes.\n", fs.FlagUsages(), unitHelp)
		return exitOK
	}
	if o.version {
		fmt.Fprintf(c.stdout, "wcdl %s %s %s/%s\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return exitOK
	}
	// Every line goes through the screen, which keeps them off the bar.
	scr := newScreen(c.stderr)
	log := c.newLogger(o, scr)
	if o.shardFrom != "" {
		log.Debug("shard from the environment", "shard", o.shard, "from", o.shardFrom)
	}
	con := newConsole(scr, o.logFormat == "json")
	if c.environ != nil && !o.quiet {
		for _, w := range unknownEnv(fs, c.environ()) {
			con.warn(w)
		}
	}
	if len(o.manifests) == 0 && o.bbox == "" && len(o.aois) == 0 {
		con.errorf("Run 'wcdl --help' for usage.", "nothing to download: give a manifest with -m FILE, a box with --bbox W,S,E,N or an area with --aoi FILE")
		return exitUsage
	}

	// The simulator starts first, silently: the plan names its URLs. It
	// is announced only once the inputs are known to be good.
	var sim *simulator
	port := simPort
	if c.simPort != 0 {
		port = c.simPort
	}
	if o.simulate {
		rate, _ := parseRate(o.simulateRate) // checked by parseArgs
		sim = startSimulator(port, rate)
		defer sim.Close()
		if c.simulated != nil {
			c.simulated(sim)
		}
		if err := sim.bind(o); err != nil {
			con.errorf("", "%v", err)
			return exitUsage
		}
		o.tokenURL, o.clientID, o.scope, o.issuer, o.baseURL = sim.kc.TokenURL(), simClient, "", "", o.sources[0].Root
	}

	plan, err := c.plan(ctx, o, con)
	if err != nil {
		if ctx.Err() != nil { // interrupted while fetching the grid
			con.say(slog.LevelWarn, "interrupted; nothing was downloaded")
			return exitInterrupted
		}
		con.errorf("", "%v", err)
		return exitUsage
	}
	if o.dryRun {
		if sim != nil && !o.quiet {
			sim.say(con, port, o)
		}
		return c.dryRun(o, plan, con)
	}

	if err := checkPaths(o); err != nil {
		con.errorf("", "%v", err)
		return exitUsage
	}
	// The bucket is asked before any login: wrong credentials or a
	// missing bucket must not cost a login, nor a download.
	loc, bkt, err := openBucket(ctx, o, log)
	if err != nil {
		con.errorf("", "%v", err)
		return exitUsage
	}
	if sim != nil && !o.quiet {
		sim.say(con, port, o)
	}
	c.login = &loginWatch{now: time.Now}
	acc, err := c.access(ctx, o, sim, con, log)
	if err != nil {
		if ctx.Err() != nil {
			con.say(slog.LevelWarn, "interrupted; nothing was downloaded")
			return exitInterrupted
		}
		con.errorf("", "%v", err)
		return exitUsage
	}
	defer func() {
		// End the Keycloak session even after an interrupt, but do not let
		// an unreachable server hold up the exit.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := acc.close(ctx); err != nil {
			log.Debug("ending the login session", "err", err)
		}
	}()

	if bkt == nil {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			con.errorf("", "creating the output folder: %v", err)
			return exitFailed
		}
	}
	limit, _ := parseRate(o.limitRate) // checked by parseArgs, as are these
	minRate, _ := parseRate(o.minRate)
	maxFileSize, _ := parseSize(o.maxFileSize)
	if maxFileSize == 0 {
		maxFileSize = noMaxFileSize
	}
	var limiter *rate.Limiter
	if limit > 0 {
		limiter = rate.NewLimiter(rate.Limit(limit), int(min(limit, 256<<10)))
	}

	ui := newProgress(c.progressMode(o), con, scr, len(plan.Entries))
	ui.halted = func() bool { return ctx.Err() != nil }
	ui.login = c.login.waiting
	d, err := downloader.New(downloader.Config{
		Dir:          o.out,
		Output:       loc,
		Workers:      o.workers,
		Client:       newClient(acc, o.workers, sim.tlsConfig(), c.dial),
		Attempts:     o.retries,
		RetryMaxWait: o.retryMaxWait,
		StallTimeout: o.stallTimeout,
		MinRate:      minRate,
		MaxFileSize:  maxFileSize,
		Limiter:      limiter,
		Force:        o.force,
		// The checksums are for the report: without one, nobody reads
		// them (a manifest's sha256= is checked either way).
		SkipSHA256: o.report == "",
		Logger:     log,
		OnResult:   ui.result,
	})
	if err != nil {
		con.errorf("", "%v", err)
		return exitUsage
	}

	started := time.Now()
	ui.start(d.Progress)
	results, runErr := d.Run(ctx, plan.Entries)
	ui.stop(runErr)
	finished := time.Now()

	if ui.mode == "none" {
		// No progress lines were shown (-q, --progress none), but failures
		// are not progress: -q is quiet, not silent.
		for _, r := range results {
			if r.Status == downloader.Failed && !coveredByStop(r, runErr) {
				con.result(r, d.Progress())
			}
		}
	}
	sum := summarize(results, finished.Sub(started), acc.stats(), d.Progress())
	log.Debug("transfers in flight", "workers", o.workers, "at the end", sum.Concurrency,
		"lowest", sum.ConcurrencyLowest, "answers 429 or 503", sum.Throttled)
	code := exitCode(ctx, runErr, sum)
	if !o.quiet {
		con.summary(sum)
	}
	switch {
	case code == exitAuth, code == exitUnreachable:
		con.errorf("", "%s", stopReason(runErr))
	case code == exitInterrupted:
		kept := partsKept(results)
		con.say(slog.LevelWarn, interruptLine(kept), "interrupted", sum.Interrupted, "not_started", sum.NotStarted, "parts_kept", kept)
	case runErr != nil: // a full or read-only output file system
		con.errorf("", "the batch was stopped: %v; partial files are kept and the next run resumes them", runErr)
	}
	if o.report != "" {
		rep := newReport(o, c.credentialUse(o), started, finished, sum, code, results)
		if bkt != nil {
			rep.UploadsAborted = bkt.Aborted()
		}
		if err := rep.write(o.report, c.stdout); err != nil {
			con.errorf("", "writing the report: %v", err)
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
	case errors.Is(runErr, auth.ErrLoginFailed), errors.Is(runErr, auth.ErrBadCredentials),
		errors.Is(runErr, auth.ErrTokenRefused), errors.Is(runErr, auth.ErrBadTokenAnswer):
		return exitAuth
	case errors.Is(runErr, downloader.ErrUnreachable):
		return exitUnreachable
	case ctx.Err() != nil:
		return exitInterrupted
	case runErr != nil, sum.Failed > 0:
		return exitFailed
	}
	return exitOK
}

// interruptLine says in one line what an interrupt left for the next run:
// kept partial files.
func interruptLine(kept int) string {
	if kept == 0 {
		return "interrupted; the next run starts where this one stopped"
	}
	if kept == 1 {
		return "interrupted; 1 partial file kept, the next run resumes it"
	}
	return fmt.Sprintf("interrupted; %d partial files kept, the next run resumes them", kept)
}

// partsKept counts the interrupted entries that left bytes in their part
// (<name>.part): an entry interrupted while it waited to retry may have
// none.
func partsKept(results []downloader.Result) int {
	n := 0
	for _, r := range results {
		if r.Status != downloader.Interrupted {
			continue
		}
		if fi, err := os.Lstat(r.Path + ".part"); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			n++
		}
	}
	return n
}

// authFailure says in one line why the batch stopped for authentication.
func authFailure(err error) string {
	var re *auth.RetrieveError
	switch {
	case errors.Is(err, auth.ErrTokenEndpointUnavailable):
		return "login failed, the batch was stopped: " + auth.ErrTokenEndpointUnavailable.Error() + ": " + loginCause(err)
	case errors.As(err, &re):
		return fmt.Sprintf("login failed, the batch was stopped: %v", re)
	case errors.Is(err, auth.ErrBadTokenAnswer):
		return fmt.Sprintf("login failed, the batch was stopped: %v", err)
	case errors.Is(err, auth.ErrCredentialRefused):
		return "the batch was stopped: " + loginCause(err)
	case errors.Is(err, auth.ErrLoginFailed):
		return "login failed, the batch was stopped: " + loginCause(err)
	}
	return "the batch was stopped: " + auth.ErrTokenRefused.Error() + " (the account may lack access to these files)"
}

// newLogger logs to w at the level that -q and -v choose, as JSON or as
// lines like wcdl's others, through shown.NewHandler.
func (c *command) newLogger(o *options, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch {
	case o.quiet:
		level = slog.LevelError
	case o.verbose:
		level = slog.LevelDebug
	}
	ho := &slog.HandlerOptions{Level: level}
	var h slog.Handler = newLineHandler(w, level)
	if o.logFormat == "json" {
		h = slog.NewJSONHandler(w, ho)
	}
	// Whoever logs a URL or a server's words, its secrets and escape
	// sequences stop here.
	return slog.New(shown.NewHandler(h))
}

// progressMode resolves --progress auto and --quiet to a concrete mode.
func (c *command) progressMode(o *options) string {
	switch {
	case o.quiet:
		return "none"
	case o.logFormat == "json" && o.progress != "none":
		return "plain" // a line per file, as JSON; no bar
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

// loginCause is the part of a login error after the request that failed,
// without the chain of wrappers added on the way from the worker.
func loginCause(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "auth: "); i >= 0 {
		return msg[i+len("auth: "):]
	}
	return msg
}
