// Command wcdl-sim serves a fake Keycloak and a fake Terrascope download
// service on loopback, for trying wcdl, testing scripts that use it, and
// benchmarking it against other downloaders, all without a network.
//
// It also serves a public bucket laid out as ESA's WorldCover bucket (for
// wcdl --source aws --base-url aws=BUCKET_URL), and an Azure Blob container
// laid out as the Planetary Computer's, behind SAS tokens from its own
// token endpoint (for wcdl --source pc --base-url pc=BLOB_URL --token-url
// SAS_URL).
//
// It prints the token URL, client id, download base URL, demo credentials'
// username, the URL of its stand-in tile grid, the bucket's URL, the blob
// container's and the SAS token endpoint's as
// key=value lines on standard output, serves until
// SIGINT or SIGTERM, then prints its counters as one JSON line and exits.
//
//	wcdl-sim --access-lifetime 2s --rotation --fail-503 0.05 --cut-body 0.1
//
// With --tls the download service speaks TLS with HTTP/2 and HTTP/1.1, with
// a certificate from a throwaway CA written to --ca-out, so that clients can
// trust it with SSL_CERT_FILE=FILE (Go programs, OpenSSL), curl --cacert FILE
// or an equivalent.
//
//	wcdl-sim --tls --ca-out ca.pem --conn-bandwidth 8M --max-in-flight 4
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/wcdl/wcdl/auth/keycloaktest"
	"github.com/wcdl/wcdl/auth/pctest"
	"github.com/wcdl/wcdl/downloader/blobtest"
	"github.com/wcdl/wcdl/downloader/s3test"
	"github.com/wcdl/wcdl/downloader/terrascopetest"
	"github.com/wcdl/wcdl/internal/units"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config holds the simulator's flags.
type config struct {
	keycloakAddr, downloadAddr, bucketAddr string
	blobAddr, sasAddr                      string
	sasLife                                time.Duration
	user                                   string
	accessLife, refreshLife                time.Duration
	rotation                               bool
	staticToken                            string
	fileSize                               int64
	rangeOn                                bool
	fail503, fail429                       float64
	retryAfter                             time.Duration
	cutBody, html                          float64
	revokeEvery                            int
	bandwidth                              int64
	latency                                time.Duration
	loginRedirect                          bool
	seed                                   int64
	landMask                               bool
	tls                                    bool
	caOut                                  string
	connBandwidth                          int64
	maxInFlight                            int
	capRetryAfter                          time.Duration
}

// demoPassword is the simulated account's password. It is fixed, and not a
// flag, so that no password ever needs to appear on a command line.
const demoPassword = "demo-password"

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c config
	fs := pflag.NewFlagSet("wcdl-sim", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.StringVar(&c.keycloakAddr, "keycloak-listen", "127.0.0.1:0", "address of the fake Keycloak")
	fs.StringVar(&c.downloadAddr, "download-listen", "127.0.0.1:0", "address of the fake download service")
	fs.StringVar(&c.bucketAddr, "bucket-listen", "127.0.0.1:0", "address of the fake public bucket laid out as ESA's (wcdl --source aws)")
	fs.StringVar(&c.blobAddr, "blob-listen", "127.0.0.1:0", "address of the fake Azure Blob container laid out as the Planetary Computer's (wcdl --source pc)")
	fs.StringVar(&c.sasAddr, "sas-listen", "127.0.0.1:0", "address of the fake Planetary Computer SAS token endpoint")
	fs.DurationVar(&c.sasLife, "sas-lifetime", 20*time.Second, "SAS token lifetime (msft:expiry)")
	fs.StringVar(&c.user, "user", "demo", "the demo account's username (its password is \""+demoPassword+"\")")
	fs.DurationVar(&c.accessLife, "access-lifetime", 300*time.Second, "access token lifetime (expires_in)")
	fs.DurationVar(&c.refreshLife, "refresh-lifetime", 3600*time.Second, "refresh token lifetime (refresh_expires_in)")
	fs.BoolVar(&c.rotation, "rotation", false, "revoke the old token pair on every refresh, as Keycloak's refresh-token rotation does")
	fs.StringVar(&c.staticToken, "static-token", "", "also accept this bearer token forever (for benchmarking tools that cannot log in)")
	fs.Var(units.NewFlag(&c.fileSize, terrascopetest.DefaultFileSize, "size"), "file-size", "size of every file in bytes (K, M, G: powers of 1024, as wcdl counts)")
	fs.BoolVar(&c.rangeOn, "range", true, "honour Range requests")
	fs.Float64Var(&c.fail503, "fail-503", 0, "probability of a 503 answer")
	fs.Float64Var(&c.fail429, "fail-429", 0, "probability of a 429 answer")
	fs.DurationVar(&c.retryAfter, "retry-after", time.Second, "Retry-After of 429 answers")
	fs.Float64Var(&c.cutBody, "cut-body", 0, "probability that a body is cut midway")
	fs.Float64Var(&c.html, "html", 0, "probability of an HTML login page with 200")
	fs.IntVar(&c.revokeEvery, "revoke-every", 0, "revoke every token on each n-th download (0: never)")
	fs.Var(units.NewFlag(&c.bandwidth, 0, "rate"), "bandwidth", "cap on the bytes per second the download service sends, such as 20M (0: none)")
	fs.DurationVar(&c.latency, "latency", 0, "delay before every download answer")
	fs.BoolVar(&c.loginRedirect, "login-redirect", false, "answer a missing or expired token with a 302 to the login page instead of 401")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the contents and the fault draws")
	fs.BoolVar(&c.landMask, "land-mask", true, "answer 404 for ocean tiles of the stand-in land mask, as the real service does (false: serve every tile)")
	fs.BoolVar(&c.tls, "tls", false, "serve downloads over TLS with HTTP/2 and HTTP/1.1, with a certificate from a throwaway CA")
	fs.StringVar(&c.caOut, "ca-out", "", "with --tls, write the throwaway CA's certificate (PEM) to this file, for SSL_CERT_FILE")
	fs.Var(units.NewFlag(&c.connBandwidth, 0, "rate"), "conn-bandwidth", "cap on the bytes per second each connection sends, of the download service, the bucket and the blob container, such as 8M (0: none)")
	fs.IntVar(&c.maxInFlight, "max-in-flight", 0, "serve at most this many downloads at once, answering 429 beyond (0: no cap)")
	fs.DurationVar(&c.capRetryAfter, "cap-retry-after", 0, "Retry-After of the 429 answers of --max-in-flight (0: none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "wcdl-sim: %v\n", err)
		return 2
	}
	if c.caOut != "" && !c.tls {
		fmt.Fprintln(stderr, "wcdl-sim: --ca-out needs --tls")
		return 2
	}

	kl, err := net.Listen("tcp", c.keycloakAddr)
	if err != nil {
		fmt.Fprintf(stderr, "wcdl-sim: %v\n", err)
		return 1
	}
	dl, err := net.Listen("tcp", c.downloadAddr)
	if err != nil {
		kl.Close()
		fmt.Fprintf(stderr, "wcdl-sim: %v\n", err)
		return 1
	}
	kc := keycloaktest.NewServer(
		keycloaktest.WithListener(kl),
		keycloaktest.WithUser(c.user, demoPassword),
		keycloaktest.WithAccessLifetime(c.accessLife),
		keycloaktest.WithRefreshLifetime(c.refreshLife),
		keycloaktest.WithRotation(c.rotation),
	)
	defer kc.Close()
	opts := []terrascopetest.Option{
		terrascopetest.WithListener(dl),
		terrascopetest.WithFileSize(c.fileSize),
		terrascopetest.WithRange(c.rangeOn),
		terrascopetest.WithSeed(c.seed),
		terrascopetest.WithLandMask(c.landMask),
	}
	if c.fail503 > 0 {
		opts = append(opts, terrascopetest.WithFail503(c.fail503))
	}
	if c.fail429 > 0 {
		opts = append(opts, terrascopetest.WithFail429(c.fail429, c.retryAfter))
	}
	if c.cutBody > 0 {
		opts = append(opts, terrascopetest.WithCutBody(c.cutBody))
	}
	if c.html > 0 {
		opts = append(opts, terrascopetest.WithHTML(c.html))
	}
	if c.revokeEvery > 0 {
		opts = append(opts, terrascopetest.WithRevokeEvery(c.revokeEvery))
	}
	if c.bandwidth > 0 {
		opts = append(opts, terrascopetest.WithBandwidth(c.bandwidth))
	}
	if c.latency > 0 {
		opts = append(opts, terrascopetest.WithLatency(c.latency))
	}
	if c.loginRedirect {
		opts = append(opts, terrascopetest.WithLoginRedirect(kc.LoginURL()))
	}
	if c.connBandwidth > 0 {
		opts = append(opts, terrascopetest.WithConnBandwidth(c.connBandwidth))
	}
	if c.maxInFlight > 0 {
		opts = append(opts, terrascopetest.WithMaxInFlight(c.maxInFlight, c.capRetryAfter))
	}
	if c.tls {
		ca, err := terrascopetest.NewCA()
		if err != nil {
			fmt.Fprintf(stderr, "wcdl-sim: %v\n", err)
			return 1
		}
		if c.caOut != "" {
			if err := os.WriteFile(c.caOut, ca.CertPEM, 0o644); err != nil {
				fmt.Fprintf(stderr, "wcdl-sim: writing the CA certificate: %v\n", err)
				return 1
			}
		}
		opts = append(opts, terrascopetest.WithTLS(ca))
	}
	var tokens terrascopetest.Tokens = kc
	if c.staticToken != "" {
		tokens = staticOr{static: c.staticToken, Tokens: kc}
	}
	ts := terrascopetest.NewServer(tokens, opts...)
	defer ts.Close()
	bl, err := net.Listen("tcp", c.bucketAddr)
	if err != nil {
		fmt.Fprintf(stderr, "wcdl-sim: %v\n", err)
		return 1
	}
	bucket := s3test.NewServer("esa-worldcover", s3test.WithListener(bl), s3test.WithGenerator(s3test.WorldCover(c.fileSize)),
		s3test.WithConnRate(c.connBandwidth))
	defer bucket.Close()
	sl, err := net.Listen("tcp", c.sasAddr)
	if err != nil {
		fmt.Fprintf(stderr, "wcdl-sim: %v\n", err)
		return 1
	}
	pc := pctest.NewServer(pctest.Options{Containers: []string{"esa-worldcover"}, Lifetime: c.sasLife, Listener: sl})
	defer pc.Close()
	ll, err := net.Listen("tcp", c.blobAddr)
	if err != nil {
		fmt.Fprintf(stderr, "wcdl-sim: %v\n", err)
		return 1
	}
	blob := blobtest.NewServer(pctest.DevAccount, pctest.DevKey, "esa-worldcover", blobtest.WithListener(ll),
		blobtest.WithGenerator(blobtest.Generator(s3test.WorldCover(c.fileSize))), blobtest.WithConnRate(c.connBandwidth))
	defer blob.Close()

	fmt.Fprintf(stdout, "token_url=%s\nclient_id=%s\nbase_url=%s\nusername=%s\ngrid_url=%s\nbucket_url=%s\nblob_url=%s\nsas_url=%s\n",
		kc.TokenURL(), keycloaktest.DefaultClient, ts.URL(), c.user, ts.GridURL(), bucket.URL(), blob.URL(), pc.URL)
	if f, ok := stdout.(*os.File); ok {
		f.Sync()
	}
	<-ctx.Done()

	kst, tst := kc.Stats(), ts.Stats()
	json.NewEncoder(stdout).Encode(map[string]any{
		"password_grants":        kst.PasswordGrants,
		"refresh_grants":         kst.RefreshGrants,
		"failed_password_grants": kst.FailedPasswordGrants,
		"failed_refresh_grants":  kst.FailedRefreshGrants,
		"logouts":                kst.Logouts,
		"live_sessions":          kst.LiveSessions,
		"requests":               tst.Requests,
		"by_status":              tst.ByStatus,
		"bytes_served":           tst.BytesServed,
		"early_retries":          tst.EarlyRetries,
		"cut_bodies":             tst.CutBodies,
		"revocations":            tst.Revocations,
		"connections":            tst.Connections,
		"max_in_flight":          tst.MaxInFlight,
		"cap_rejections":         tst.CapRejections,
		"bucket_requests":        bucket.Stats().Requests,
		"sas_requests":           pc.Requests(),
		"blob_requests":          blob.Stats().Requests,
		"blob_sas_refused":       blob.Stats().Refused,
	})
	return 0
}

// staticOr accepts one fixed token besides the fake Keycloak's own.
type staticOr struct {
	static string
	terrascopetest.Tokens
}

func (s staticOr) Valid(tok string) bool { return tok == s.static || s.Tokens.Valid(tok) }
