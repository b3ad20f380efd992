package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/source"
)

// options holds everything the command line and the environment can set.
type options struct {
	manifests    []string
	assets       []string // STAC asset keys
	bbox         string
	aois         []string // aoi.go
	grid         string
	strict       bool
	planFormat   string
	years        string
	layers       string
	out          string
	s3           s3Options // bucket.go
	workers      int
	provider     string
	tokenURL     string
	clientID     string
	scope        string
	issuer       string
	authHosts    []string
	baseURL      string   // the unnamed --base-url: the first source's root
	baseURLs     []string // every --base-url, URL or NAME=URL
	source       string
	sources      []source.Source // --source with the roots of --base-url
	noAuth       bool
	username     string
	passwordFile string
	tokenFile    string // access.go
	apiKeyHeader string
	retries      int
	retryMaxWait time.Duration
	limitRate    string
	stallTimeout time.Duration
	minRate      string
	maxFileSize  string
	force        bool
	shard        string
	shardCount   int    // shard.go
	shardFrom    string // the variables --shard auto read
	dryRun       bool
	report       string
	progress     string
	simulate     bool
	simulateRate string // simulate.go
	quiet        bool
	verbose      bool
	logFormat    string
	version      bool
	help         bool
}

// errUsage marks command-line mistakes: they exit 2 with a hint.
var errUsage = errors.New("usage")

// usageError wraps a command-line mistake so that run can map it to exit 2.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// newFlagSet defines wcdl's flags on a fresh pflag.FlagSet bound to o.
func newFlagSet(o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("wcdl", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringArrayVarP(&o.manifests, "manifest", "m", nil, "manifest `FILE` (- for standard input); repeatable")
	fs.StringArrayVar(&o.assets, "asset", nil, "from a STAC manifest, take asset `KEY` of every item (default: every GeoTIFF asset); repeatable")
	fs.StringVar(&o.bbox, "bbox", "", "add every tile of the box `W,S,E,N` (degrees)")
	fs.StringArrayVar(&o.aois, "aoi", nil, "add every tile the GeoJSON area of interest `FILE` covers (- for standard input); repeatable")
	fs.StringVar(&o.grid, "grid", "", "plan only tiles listed in the WorldCover grid GeoJSON `FILE, URL or SOURCE` (a URL is cached; aws: the bucket's)")
	fs.BoolVar(&o.strict, "strict", false, "with --grid, refuse manifest entries whose tiles the grid does not list")
	fs.StringVar(&o.years, "year", "2021", "years a tile id expands to: `LIST` of 2020, 2021")
	fs.StringVar(&o.layers, "layer", "Map", "layers a tile id expands to: `LIST` of Map, InputQuality")
	fs.StringVarP(&o.out, "out", "o", ".", "output `DIR` (created if missing), or s3://BUCKET/PREFIX: streamed into the bucket, no copy on disk")
	o.s3.flags(fs)
	fs.IntVarP(&o.workers, "workers", "w", 4, "concurrent downloads")
	fs.StringVar(&o.provider, "provider", "terrascope", "identity provider preset: terrascope, maxar, cdse, or pc (Planetary Computer SAS tokens)")
	fs.StringVar(&o.tokenURL, "token-url", "", "Keycloak token endpoint `URL` (overrides the provider)")
	fs.StringVar(&o.clientID, "client-id", "", "OIDC client `ID` (overrides the provider)")
	fs.StringVar(&o.scope, "scope", "", "OIDC `SCOPE` to request (overrides the provider), such as openid")
	fs.StringVar(&o.issuer, "issuer", "", "OpenID issuer `URL` whose discovery document names the token, revocation and logout endpoints (default: the realm of a Keycloak token URL)")
	fs.StringArrayVar(&o.authHosts, "auth-host", nil, "also send the token to hosts matching `PATTERN` (host, host:port or *.domain), where downloads redirect; repeatable")
	fs.StringVar(&o.source, "source", "terrascope", "where WorldCover products come from: `LIST` of terrascope, aws, pc in order of preference")
	fs.StringArrayVar(&o.baseURLs, "base-url", nil, "download root `URL` of the first source, or NAME=URL of a named one; repeatable")
	fs.BoolVar(&o.noAuth, "no-auth", false, "ask for no credentials and send none (public URLs)")
	fs.StringVarP(&o.username, "username", "u", "", "account `USER` (else WCDL_USERNAME, else ~/.netrc)")
	fs.StringVar(&o.passwordFile, "password-file", "", "read the password from `FILE` (- for standard input); else WCDL_PASSWORD, ~/.netrc or a prompt")
	fs.StringVar(&o.tokenFile, "token-file", "", "send the bearer token in `FILE` (read again when it changes) instead of logging in; or set WCDL_TOKEN")
	fs.StringVar(&o.apiKeyHeader, "api-key-header", "", "send the API key in WCDL_API_KEY in header `NAME` (such as MAXAR-API-KEY) instead of logging in")
	fs.IntVar(&o.retries, "retries", 5, "attempts per file, retries and resumes included")
	fs.DurationVar(&o.retryMaxWait, "retry-max-wait", 5*time.Minute, "longest single wait between attempts, Retry-After included")
	fs.StringVar(&o.limitRate, "limit-rate", "", "cap the whole run at `RATE` bytes per second (e.g. 500K, 20MiB; 0: no cap)")
	fs.DurationVar(&o.stallTimeout, "stall-timeout", 2*time.Minute, "cut and resume a transfer that gets no response headers or no byte for `D`")
	fs.StringVar(&o.minRate, "min-rate", "", "cut and resume a transfer slower than `RATE` bytes per second over --stall-timeout (default off)")
	fs.StringVar(&o.maxFileSize, "max-file-size", "64G", "refuse a file larger than `SIZE` bytes (e.g. 64G, 2T; 0: no cap), and cut a body without a length there")
	fs.BoolVar(&o.force, "force", false, "download again even if the final file exists")
	fs.StringVar(&o.shard, "shard", "", "download only shard `K/N` of the plan (0 <= K < N), or auto: K and N from JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or AWS_BATCH_JOB_ARRAY_INDEX")
	fs.IntVar(&o.shardCount, "shard-count", 0, "with --shard auto, the number of shards `N` (required for a Kubernetes Indexed Job)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the plan (URL and output path per entry); download nothing, ask for no token")
	fs.StringVar(&o.planFormat, "plan-format", "text", "--dry-run output: text, or geojson (one polygon per tile, for a map)")
	fs.StringVar(&o.report, "report", "", "write a JSON report to `FILE` (- for standard output)")
	fs.StringVar(&o.progress, "progress", "auto", "progress display: auto, bar, plain or none")
	fs.BoolVar(&o.simulate, "simulate", false, "run against a built-in simulator of Keycloak, the download service, ESA's bucket and the Planetary Computer (--source)")
	fs.StringVar(&o.simulateRate, "simulate-rate", "1M", "with --simulate, serve each connection at `RATE` bytes per second (0: full speed, for benchmarks)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "print errors only")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "print debugging detail")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.BoolVarP(&o.help, "help", "h", false, "print this help and exit")
	return fs
}

// parseArgs parses args and then the WCDL_* environment (through getenv)
// into a fresh options. A flag on the command line beats the environment.
func parseArgs(args []string, getenv func(string) string) (*options, *pflag.FlagSet, error) {
	o := &options{}
	fs := newFlagSet(o)
	fs.SetOutput(io.Discard) // run prints one line of its own instead
	if err := fs.Parse(goStyleArgs(fs, args)); err != nil {
		if sd := singleDashFlag(fs, args, err.Error()); sd != nil {
			return o, fs, sd
		}
		return o, fs, usageError("%v%s", err, suggestFlag(fs, err))
	}
	if fs.NArg() > 0 {
		err := usageError("unexpected argument %q (manifests are given with -m FILE)", fs.Arg(0))
		if sd := singleDashFlag(fs, args, err.Error()); sd != nil {
			return o, fs, sd
		}
		return o, fs, err
	}
	var envErr error
	fs.VisitAll(func(f *pflag.Flag) {
		// --help and --version are actions, not settings: a WCDL_VERSION
		// that pins an install must not turn a run into a version print.
		if envErr != nil || f.Changed || f.Name == "help" || f.Name == "version" {
			return
		}
		name := envName(f.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			envErr = usageError("invalid value %q for %s: %v", v, name, err)
		}
	})
	if envErr != nil {
		return o, fs, envErr
	}
	if err := o.check(); err != nil {
		return o, fs, err
	}
	if err := o.checkEndpointEnv(getenv); err != nil {
		return o, fs, err
	}
	return o, fs, o.resolveShard(getenv)
}

// envName is the environment variable that sets the flag name.
func envName(flag string) string {
	return "WCDL_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// check rejects values that pflag accepts but wcdl cannot use.
func (o *options) check() error {
	switch {
	case o.workers < 1:
		return usageError("--workers must be at least 1, not %d", o.workers)
	case o.retries < 1:
		return usageError("--retries must be at least 1, not %d", o.retries)
	case o.retryMaxWait <= 0:
		return usageError("--retry-max-wait must be positive, not %v", o.retryMaxWait)
	case o.quiet && o.verbose:
		return usageError("--quiet and --verbose exclude each other")
	}
	switch o.progress {
	case "auto", "bar", "plain", "none":
	default:
		return usageError("--progress must be auto, bar, plain or none, not %q", o.progress)
	}
	switch o.logFormat {
	case "text", "json":
	default:
		return usageError("--log-format must be text or json, not %q", o.logFormat)
	}
	if o.passwordFile == "-" && slices.Contains(o.manifests, "-") {
		return usageError("standard input cannot hold both the manifest (-m -) and the password (--password-file -)")
	}
	for _, p := range o.authHosts {
		if err := auth.CheckHostPattern(p); err != nil {
			return usageError("--auth-host: %v", err)
		}
	}
	limit, err := parseRate(o.limitRate)
	if err != nil {
		return usageError("--limit-rate: %v", err)
	}
	if o.stallTimeout <= 0 {
		return usageError("--stall-timeout must be positive, not %v", o.stallTimeout)
	}
	minRate, err := parseRate(o.minRate)
	if err != nil {
		return usageError("--min-rate: %v", err)
	}
	if limit > 0 && minRate*int64(o.workers) > limit {
		return usageError("--min-rate %s for each of %d workers exceeds --limit-rate %s: every transfer would be cut", o.minRate, o.workers, o.limitRate)
	}
	if o.maxFileSize == "" {
		return usageError("--max-file-size must be given as a size such as 64G (0 for none)")
	}
	if _, err := parseSize(o.maxFileSize); err != nil {
		return usageError("--max-file-size: %v", err)
	}
	if _, err := parseRate(o.simulateRate); err != nil {
		return usageError("--simulate-rate: %v", err)
	}
	// The bucket URL and flags are checked before a --dry-run prints keys
	// under it; the bucket itself only before a download.
	if _, err := o.checkBucket(); err != nil {
		return err
	}
	if err := o.checkSources(); err != nil {
		return err
	}
	if err := o.checkAccess(); err != nil {
		return err
	}
	return o.checkAOI()
}

// goStyleArgs rewrites Go-style single-dash long flags ("-manifest x",
// "-workers=8") to their double-dash form, so that pflag does not read them
// as clusters of shorthands. An argument is rewritten only when the name
// after its single dash is one of fs's long flags; shorthand clusters
// ("-qv", "-w8"), flag values and everything after "--" are left alone.
func goStyleArgs(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) < 2 || a[0] != '-' {
			out = append(out, a)
			continue
		}
		var f *pflag.Flag
		inline := false
		switch {
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			f, inline = fs.Lookup(name), hasValue
		default:
			name, _, hasValue := strings.Cut(a[1:], "=")
			if len(name) > 1 && fs.Lookup(name) != nil {
				a = "-" + a
				f, inline = fs.Lookup(name), hasValue
			} else {
				f, inline = lastShorthand(fs, a[1:])
			}
		}
		out = append(out, a)
		if f != nil && !inline && f.NoOptDefVal == "" && i+1 < len(args) {
			// The next argument is this flag's value: copy it as it is.
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// lastShorthand walks a shorthand cluster such as "qvw" or "w8" and returns
// the flag that takes the next argument as its value, if any, and whether the
// value was given inside the cluster itself.
func lastShorthand(fs *pflag.FlagSet, cluster string) (*pflag.Flag, bool) {
	for j := 0; j < len(cluster); j++ {
		f := fs.ShorthandLookup(cluster[j : j+1])
		if f == nil {
			return nil, false
		}
		if f.NoOptDefVal == "" {
			return f, j+1 < len(cluster)
		}
	}
	return nil, false
}

// suggestFlag returns " (did you mean --NAME?)" when err is pflag's
// unknown-flag error and a flag of fs is a likely intended name: one that
// starts with or is within two edits of what was typed. Else "".
func suggestFlag(fs *pflag.FlagSet, err error) string {
	typed, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok || typed == "" {
		return ""
	}
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	best := closest(typed, names)
	if best == "" {
		return ""
	}
	return " (did you mean --" + best + "?)"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
