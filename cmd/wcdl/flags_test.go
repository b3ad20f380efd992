package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

func noEnv(string) string { return "" }

func TestParseArgsSpellings(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want func(*options) bool
	}{
		{"go style with space", []string{"-manifest", "tiles.txt"}, func(o *options) bool { return slices.Equal(o.manifests, []string{"tiles.txt"}) }},
		{"go style with equals", []string{"-manifest=tiles.txt"}, func(o *options) bool { return slices.Equal(o.manifests, []string{"tiles.txt"}) }},
		{"gnu style with equals", []string{"--manifest=tiles.txt"}, func(o *options) bool { return slices.Equal(o.manifests, []string{"tiles.txt"}) }},
		{"gnu style with space", []string{"--manifest", "tiles.txt"}, func(o *options) bool { return slices.Equal(o.manifests, []string{"tiles.txt"}) }},
		{"shorthand", []string{"-m", "tiles.txt"}, func(o *options) bool { return slices.Equal(o.manifests, []string{"tiles.txt"}) }},
		{"repeated manifests", []string{"-m", "a.txt", "-manifest", "b.txt", "--manifest=c.txt"}, func(o *options) bool { return slices.Equal(o.manifests, []string{"a.txt", "b.txt", "c.txt"}) }},
		{"go style int", []string{"-workers", "8"}, func(o *options) bool { return o.workers == 8 }},
		{"go style int with equals", []string{"-workers=8"}, func(o *options) bool { return o.workers == 8 }},
		{"shorthand value attached", []string{"-w8"}, func(o *options) bool { return o.workers == 8 }},
		{"shorthand cluster", []string{"-qw", "3"}, func(o *options) bool { return o.quiet && o.workers == 3 }},
		{"go style bool", []string{"-dry-run", "-force"}, func(o *options) bool { return o.dryRun && o.force }},
		{"out both ways", []string{"-out", "a", "-o", "b"}, func(o *options) bool { return o.out == "b" }},
		{"value that looks like a flag", []string{"-m", "-workers"}, func(o *options) bool { return slices.Equal(o.manifests, []string{"-workers"}) && o.workers == 4 }},
		{"negative bbox value", []string{"-bbox", "-10,-5,3,4"}, func(o *options) bool { return o.bbox == "-10,-5,3,4" }},
		{"duration", []string{"-retry-max-wait", "90s"}, func(o *options) bool { return o.retryMaxWait == 90*time.Second }},
		{"stdin manifest", []string{"-manifest", "-"}, func(o *options) bool { return slices.Equal(o.manifests, []string{"-"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _, err := parseArgs(tt.args, noEnv)
			if err != nil {
				t.Fatalf("parseArgs(%q): %v", tt.args, err)
			}
			if !tt.want(o) {
				t.Errorf("parseArgs(%q) = %+v, not what the case wants", tt.args, *o)
			}
		})
	}
}

func TestGoStyleArgsLeavesDoubleDashAlone(t *testing.T) {
	fs := newFlagSet(&options{})
	got := goStyleArgs(fs, []string{"-workers", "2", "--", "-manifest", "x"})
	want := []string{"--workers", "2", "--", "-manifest", "x"}
	if !slices.Equal(got, want) {
		t.Errorf("goStyleArgs = %q, want %q", got, want)
	}
}

func TestParseArgsErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown long flag", []string{"--frobnicate"}},
		{"unknown go-style flag", []string{"-frobnicate"}},
		{"bad int", []string{"-workers", "many"}},
		{"zero workers", []string{"-workers", "0"}},
		{"bad duration", []string{"--retry-max-wait", "soon"}},
		{"bad progress", []string{"--progress", "fancy"}},
		{"bad log format", []string{"--log-format", "xml"}},
		{"bad rate", []string{"--limit-rate", "fast"}},
		{"positional argument", []string{"tiles.txt"}},
		{"quiet and verbose", []string{"-q", "-v"}},
		{"stdin for manifest and password", []string{"-m", "-", "--password-file", "-"}},
		{"auth host too broad", []string{"--auth-host", "*.eu"}},
		{"auth host as a URL", []string{"--auth-host", "https://files.example.org/"}},
		{"bucket URL with a query", []string{"-m", "t.txt", "-o", "s3://bucket/prefix?versionId=1"}},
		{"bucket URL without a bucket", []string{"-m", "t.txt", "-o", "s3:///prefix"}},
		{"bucket URL with a user", []string{"-m", "t.txt", "-o", "s3://key:secret@bucket/prefix"}},
		{"bucket prefix with ..", []string{"-o", "s3://tiles/../wc"}},
		{"bucket prefix with //", []string{"-o", "s3://tiles/a//b"}},
		{"bucket with a port", []string{"-o", "s3://tiles:9000/wc"}},
		{"s3 part size under 5M", []string{"-o", "s3://tiles/wc", "--s3-part-size", "4M"}},
		{"s3 part size over 5G", []string{"-o", "s3://tiles/wc", "--s3-part-size", "6G"}},
		{"s3 lock ttl zero", []string{"-o", "s3://tiles/wc", "--s3-lock-ttl", "0"}},
		{"s3 lock ttl negative", []string{"-o", "s3://tiles/wc", "--s3-lock-ttl", "-1s"}},
		{"s3 lock ttl too short to renew", []string{"-o", "s3://tiles/wc", "--s3-lock-ttl", "1ns"}},
		{"s3 endpoint with credentials", []string{"-o", "s3://tiles/wc", "--s3-endpoint", "http://minio:s3cr3t@127.0.0.1:9000"}},
		{"s3 endpoint with a query", []string{"-o", "s3://tiles/wc", "--s3-endpoint", "https://s3.example.org/?X-Amz-Security-Token=s3cr3t"}},
		{"s3 endpoint without a scheme", []string{"-o", "s3://tiles/wc", "--s3-endpoint", "127.0.0.1:9000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseArgs(tt.args, noEnv)
			if !errors.Is(err, errUsage) {
				t.Errorf("parseArgs(%q) error = %v, want a usage error", tt.args, err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("parseArgs(%q) error = %v: it shows a secret", tt.args, err)
			}
		})
	}
}

// TestParseArgsEndpointEnv: the endpoint the AWS SDK would take from the
// environment is checked as --s3-endpoint is, naming the variable and
// without showing what the URL holds; --s3-endpoint, an output folder or
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS make it unused, so not checked.
func TestParseArgsEndpointEnv(t *testing.T) {
	bucketArgs := []string{"-m", "t.txt", "-o", "s3://tiles/wc"}
	for _, tt := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantVar string // "": no error
	}{
		{name: "credentials in AWS_ENDPOINT_URL_S3", args: bucketArgs, env: map[string]string{"AWS_ENDPOINT_URL_S3": "http://minio:s3cr3t@127.0.0.1:9000"}, wantVar: "AWS_ENDPOINT_URL_S3"},
		{name: "query in AWS_ENDPOINT_URL", args: bucketArgs, env: map[string]string{"AWS_ENDPOINT_URL": "https://s3.example.org/?X-Amz-Security-Token=s3cr3t"}, wantVar: "AWS_ENDPOINT_URL"},
		{name: "no scheme in AWS_ENDPOINT_URL_S3", args: bucketArgs, env: map[string]string{"AWS_ENDPOINT_URL_S3": "127.0.0.1:9000"}, wantVar: "AWS_ENDPOINT_URL_S3"},
		{name: "AWS_ENDPOINT_URL_S3 beats AWS_ENDPOINT_URL", args: bucketArgs, env: map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "AWS_ENDPOINT_URL": "http://u:s3cr3t@127.0.0.1:9001"}},
		{name: "good AWS_ENDPOINT_URL", args: bucketArgs, env: map[string]string{"AWS_ENDPOINT_URL": "https://s3.example.org"}},
		{name: "--s3-endpoint given", args: append([]string{"--s3-endpoint", "http://127.0.0.1:9000"}, bucketArgs...), env: map[string]string{"AWS_ENDPOINT_URL_S3": "http://u:s3cr3t@127.0.0.1:9001"}},
		{name: "ignored by the SDK", args: bucketArgs, env: map[string]string{"AWS_ENDPOINT_URL_S3": "http://u:s3cr3t@127.0.0.1:9001", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}},
		{name: "output folder", args: []string{"-m", "t.txt", "-o", "tiles"}, env: map[string]string{"AWS_ENDPOINT_URL_S3": "http://u:s3cr3t@127.0.0.1:9001"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseArgs(tt.args, func(k string) string { return tt.env[k] })
			if tt.wantVar == "" {
				if err != nil {
					t.Errorf("parseArgs error = %v, want none", err)
				}
				return
			}
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.wantVar+" ") {
				t.Fatalf("parseArgs error = %v, want a usage error naming %s", err, tt.wantVar)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("parseArgs error = %v: it shows a secret", err)
			}
		})
	}
}

func TestParseArgsEnvironment(t *testing.T) {
	env := map[string]string{
		"WCDL_WORKERS":    "7",
		"WCDL_OUT":        "from-env",
		"WCDL_DRY_RUN":    "true",
		"WCDL_LIMIT_RATE": "20M",
		"WCDL_MANIFEST":   "env.txt",
		"WCDL_VERSION":    "v1.2.3", // as a CI job pins an install: not an action
		"WCDL_HELP":       "true",
	}
	getenv := func(k string) string { return env[k] }

	o, _, err := parseArgs([]string{"-o", "from-flag"}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if o.workers != 7 || !o.dryRun || o.limitRate != "20M" {
		t.Errorf("environment not applied: workers=%d dryRun=%v limitRate=%q", o.workers, o.dryRun, o.limitRate)
	}
	if o.out != "from-flag" {
		t.Errorf("out = %q, want the flag to beat WCDL_OUT", o.out)
	}
	if o.version || o.help {
		t.Errorf("WCDL_VERSION or WCDL_HELP turned the run into an action: version=%v help=%v", o.version, o.help)
	}
	if !slices.Equal(o.manifests, []string{"env.txt"}) {
		t.Errorf("manifests = %q, want [env.txt] from WCDL_MANIFEST", o.manifests)
	}

	env["WCDL_WORKERS"] = "lots"
	if _, _, err := parseArgs(nil, getenv); !errors.Is(err, errUsage) {
		t.Errorf("bad WCDL_WORKERS: error = %v, want a usage error", err)
	}
}

// TestSizeFlags: --limit-rate, --min-rate and --max-file-size take every
// spelling, and 0 as "none".
func TestSizeFlags(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
	}{
		{[]string{"--limit-rate", "20MiB"}, true},
		{[]string{"--limit-rate", "20MB"}, true},
		{[]string{"--limit-rate", "0"}, true},
		{[]string{"--min-rate", "0"}, true},
		{[]string{"--max-file-size", "2T"}, true},
		{[]string{"--max-file-size", "0"}, true},
		{[]string{"--max-file-size", "big"}, false},
		{[]string{"--simulate-rate", "fast"}, false},
	}
	for _, tt := range tests {
		_, _, err := parseArgs(tt.args, noEnv)
		if (err == nil) != tt.ok {
			t.Errorf("parseArgs(%q): %v, want ok=%v", tt.args, err, tt.ok)
		}
	}
}

func TestAuthHostsAddToPreset(t *testing.T) {
	o, _, err := parseArgs([]string{"--provider", "cdse", "--auth-host", "files.example.org", "--auth-host", "*.mirror.example.org",
		"--base-url", "https://catalogue.dataspace.copernicus.eu/odata"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	c := &command{getenv: func(k string) string { return creds()[k] }, stdin: strings.NewReader(""), stderr: io.Discard}
	// A token URL that is not Keycloak's: no discovery request leaves
	// the machine.
	o.tokenURL = "http://127.0.0.1:1/oauth2/token"
	_, trusted, err := c.provider(t.Context(), o, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"catalogue.dataspace.copernicus.eu", "*.dataspace.copernicus.eu", "files.example.org", "*.mirror.example.org"}
	if fmt.Sprint(trusted) != fmt.Sprint(want) {
		t.Errorf("token hosts: got %v, want %v", trusted, want)
	}
}

// TestUnknownFlagSuggestion: an unknown flag gets the nearest real one
// when there is a likely one, and nothing otherwise.
func TestUnknownFlagSuggestion(t *testing.T) {
	tests := []struct{ arg, want string }{
		{"--worker", "unknown flag: --worker (did you mean --workers?)"},
		{"--manfest", "unknown flag: --manfest (did you mean --manifest?)"},
		{"--simul", "unknown flag: --simul (did you mean --simulate?)"},
		{"--frobnicate", "unknown flag: --frobnicate"},
	}
	for _, tt := range tests {
		_, _, err := parseArgs([]string{tt.arg, "x"}, func(string) string { return "" })
		if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to end with %q", tt.arg, err, tt.want)
		}
	}
}

// TestSingleDashLongFlag: a Go-style long flag that does not exist gets the
// double-dash name it was probably meant as, not pflag's reading of it as
// a shorthand with a value ('invalid argument "orker=8"'); shorthand
// clusters with attached values still work.
func TestSingleDashLongFlag(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-worker=8"}, "unknown flag: -worker (did you mean --workers?)"},
		{[]string{"-worker", "8"}, "unknown flag: -worker (did you mean --workers?)"},
		{[]string{"-manfest", "x"}, "unknown flag: -manfest (did you mean --manifest?)"},
		{[]string{"-frobnicate"}, "unknown flag: -frobnicate"},
		{[]string{"-w8", "-oout"}, ""},
	}
	for _, tt := range tests {
		_, _, err := parseArgs(tt.args, noEnv)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if (tt.want == "" && err != nil) || !strings.HasSuffix(got, tt.want) {
			t.Errorf("parseArgs(%q): error %q, want one ending %q", tt.args, got, tt.want)
		}
	}
}

// TestUnknownEnv: a WCDL_ variable wcdl does not read is warned about once,
// with the nearest real name when one is close; the variables of flags,
// credentials (those to come included) and wcdl's own scripts are not.
func TestUnknownEnv(t *testing.T) {
	env := []string{"WCDL_WORKRS=8", "WCDL_FOO=1", "WCDL_WORKERS=2", "WCDL_PASSWORD=x", "WCDL_TOKEN=t",
		"WCDL_API_KEY=k", "WCDL_PC_SUBSCRIPTION_KEY=k", "WCDL_PASSWORD_FILE=f", "WCDL_CI_TOOLS=/x",
		"WCDL_TEST_LOCK_HOLDER=/y", "HOME=/home/x", "WCDL_OUTT=x"}
	stderr := &syncBuffer{}
	c := &command{getenv: noEnv, environ: func() []string { return env }, stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr}
	if code := c.run(t.Context(), []string{"--dry-run", "-m", writeManifest(t, "N00E006")}); code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr.String())
	}
	want := []string{
		"wcdl: warning: WCDL_WORKRS is not a variable wcdl reads; it is ignored (did you mean WCDL_WORKERS?)",
		"wcdl: warning: WCDL_FOO is not a variable wcdl reads; it is ignored",
		"wcdl: warning: WCDL_OUTT is not a variable wcdl reads; it is ignored (did you mean WCDL_OUT?)",
	}
	if got := strings.TrimSpace(stderr.String()); got != strings.Join(want, "\n") {
		t.Errorf("stderr:\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}
