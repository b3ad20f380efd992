package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/auth/keycloaktest"
	"github.com/wcdl/wcdl/downloader/s3test"
)

// TestRunAnonymousSource: a run from the anonymous bucket, or of public
// URLs with --no-auth, asks for no credentials (none are in the
// environment), contacts no token endpoint, and sends no Authorization
// header and no query to the bucket.
func TestRunAnonymousSource(t *testing.T) {
	bucket := s3test.NewServer("esa-worldcover", s3test.WithGenerator(s3test.WorldCover(64<<10)))
	defer bucket.Close()
	kc := keycloaktest.NewServer()
	defer kc.Close()
	manifest := filepath.Join(t.TempDir(), "urls.txt")
	urls := bucket.URL() + "/v200/2021/map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif\n" +
		bucket.URL() + "/v100/2020/map/ESA_WorldCover_10m_2020_v100_N51E003_Map.tif\n"
	if err := os.WriteFile(manifest, []byte(urls), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantFrom string
	}{
		{"--source aws", []string{"--source", "aws", "--base-url", "aws=" + bucket.URL(), "-m", "../../testdata/tiles.txt"}, "aws"},
		{"unnamed --base-url", []string{"--source", "aws", "--base-url", bucket.URL(), "-m", "../../testdata/tiles.txt"}, "aws"},
		{"--no-auth, public URLs", []string{"--no-auth", "-m", manifest}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, tokensBefore := bucket.Stats(), kc.Stats().TokenRequests()
			dir := t.TempDir()
			rep := filepath.Join(dir, "report.json")
			stderr := &syncBuffer{}
			c := &command{getenv: noEnv, stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: stderr}
			args := append(tt.args, "--token-url", kc.TokenURL(), "--client-id", keycloaktest.DefaultClient,
				"-o", filepath.Join(dir, "out"), "--report", rep, "--progress", "none")
			if code := c.run(t.Context(), args); code != exitOK {
				t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr.String())
			}
			after := bucket.Stats()
			if n := kc.Stats().TokenRequests() - tokensBefore; n != 0 {
				t.Errorf("token requests: %d, want 0", n)
			}
			if n := after.AuthorizationSeen - before.AuthorizationSeen; n != 0 {
				t.Errorf("requests with an Authorization header: %d, want 0", n)
			}
			if n := after.QuerySeen - before.QuerySeen; n != 0 {
				t.Errorf("object requests with a query: %d, want 0", n)
			}
			r := readReport(t, rep)
			if r.Summary.Downloaded == 0 || r.Summary.Downloaded != r.Summary.Entries {
				t.Fatalf("downloaded %d of %d entries", r.Summary.Downloaded, r.Summary.Entries)
			}
			if got := after.Requests - before.Requests; got != int64(r.Summary.Entries) {
				t.Errorf("requests to the bucket: %d, want one per entry, %d", got, r.Summary.Entries)
			}
			for _, e := range r.Entries {
				if e.From != tt.wantFrom || !slices.Contains(e.Checked, "etag-md5") || !slices.Contains(e.Checked, "tiff") {
					t.Errorf("%s: from %q, checked %v; want from %q, checked etag-md5 and tiff", e.Entry, e.From, e.Checked, tt.wantFrom)
				}
			}
		})
	}
}

// TestRunFallsBackToNextSource: with the first source out of reach, every
// file comes from the second, and the report says so.
func TestRunFallsBackToNextSource(t *testing.T) {
	bucket := s3test.NewServer("esa-worldcover", s3test.WithGenerator(s3test.WorldCover(64<<10)))
	defer bucket.Close()
	dead := fmt.Sprintf("http://127.0.0.1:%d/esa-worldcover", freePort(t))
	dir := t.TempDir()
	rep := filepath.Join(dir, "report.json")
	stderr := &syncBuffer{}
	c := &command{getenv: noEnv, stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: stderr}
	args := []string{"--source", "pc,aws", "--base-url", "pc=" + dead, "--base-url", "aws=" + bucket.URL(),
		"-m", "../../testdata/tiles.txt", "-o", filepath.Join(dir, "out"), "--report", rep, "--progress", "none", "--retries", "2"}
	if code := c.run(t.Context(), args); code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr.String())
	}
	r := readReport(t, rep)
	for _, e := range r.Entries {
		if e.Status != "downloaded" || e.From != "aws" || !strings.HasPrefix(e.URL, bucket.URL()) {
			t.Errorf("%s: %s from %q at %s, want downloaded from aws", e.Entry, e.Status, e.From, e.URL)
		}
	}
	if got := bucket.Stats().Requests; got != int64(len(r.Entries)) {
		t.Errorf("requests to the bucket: %d, want one per entry, %d", got, len(r.Entries))
	}
}

// TestRunSimulateAWS: --simulate --source aws downloads the quick start
// from the simulated bucket, with no login.
func TestRunSimulateAWS(t *testing.T) {
	dir := t.TempDir()
	rep := filepath.Join(dir, "report.json")
	var sim *simulator
	stderr := &syncBuffer{}
	c := &command{getenv: noEnv, stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: stderr,
		simPort: freePort(t), simulated: func(s *simulator) { sim = s }}
	args := []string{"--simulate", "--source", "aws", "-m", "../../testdata/tiles.txt", "-o", filepath.Join(dir, "out"), "--report", rep, "--progress", "none"}
	if code := c.run(t.Context(), args); code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr.String())
	}
	r := readReport(t, rep)
	st := sim.s3.Stats()
	if st.Requests != int64(r.Summary.Entries) || st.AuthorizationSeen != 0 {
		t.Errorf("bucket: %d requests, %d with Authorization; want %d and 0", st.Requests, st.AuthorizationSeen, r.Summary.Entries)
	}
	if n := sim.kc.Stats().TokenRequests(); n != 0 {
		t.Errorf("token requests: %d, want 0", n)
	}
	if r.Summary.Downloaded != 6 {
		t.Errorf("downloaded %d, want the 6 files of testdata/tiles.txt", r.Summary.Downloaded)
	}
	for _, e := range r.Entries {
		if e.From != "aws" || !slices.Equal(e.Checked, []string{"size", "etag-md5", "tiff"}) {
			t.Errorf("%s: from %q, checked %v; want aws, [size etag-md5 tiff]", e.Entry, e.From, e.Checked)
		}
	}
}

// TestRunGridFromSource: --grid aws takes the grid file from the bucket's
// root, so a box over sea and land (-16,45,0,54: two of its six columns
// are sea in the stand-in mask) plans only listed tiles: no request ends
// in 404.
func TestRunGridFromSource(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	rep := filepath.Join(dir, "report.json")
	var sim *simulator
	stderr := &syncBuffer{}
	c := &command{getenv: noEnv, stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: stderr,
		simPort: freePort(t), simulated: func(s *simulator) { sim = s }}
	args := []string{"--simulate", "--source", "aws", "--grid", "aws", "--bbox", "-16,45,0,54", "-o", filepath.Join(dir, "out"), "--report", rep, "--progress", "none"}
	if code := c.run(t.Context(), args); code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr.String())
	}
	r := readReport(t, rep)
	st := sim.s3.Stats()
	if r.Options.Grid != sim.s3.URL()+"/esa_worldcover_grid.geojson" {
		t.Errorf("grid %q, want the bucket's", r.Options.Grid)
	}
	if st.NotFound != 0 || r.Summary.Entries != 12 || r.Summary.Downloaded != r.Summary.Entries || st.Requests != int64(r.Summary.Entries)+1 {
		t.Errorf("%d requests, %d answered 404, %d of %d entries downloaded; want 12 entries, one request each and one for the grid, no 404",
			st.Requests, st.NotFound, r.Summary.Downloaded, r.Summary.Entries)
	}
}

// TestRunBucketThenTerrascope: --source aws,terrascope logs in only when a
// file is asked of Terrascope: never while the bucket serves everything,
// once for the whole batch when the bucket is out of reach.
func TestRunBucketThenTerrascope(t *testing.T) {
	tests := []struct {
		name       string
		bucketDown bool
		wantFrom   string
		wantTokens int64
	}{
		{"bucket serves all", false, "aws", 0},
		{"bucket out of reach", true, "terrascope", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			rep := filepath.Join(dir, "report.json")
			var sim *simulator
			stderr := &syncBuffer{}
			c := &command{getenv: noEnv, stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: stderr, simPort: freePort(t),
				simulated: func(s *simulator) {
					sim = s
					if tt.bucketDown {
						s.s3.Close()
					}
				}}
			args := []string{"--simulate", "--source", "aws,terrascope", "-m", "../../testdata/tiles.txt", "-o", filepath.Join(dir, "out"),
				"--report", rep, "--progress", "none", "--retries", "2"}
			if code := c.run(t.Context(), args); code != exitOK {
				t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr.String())
			}
			r := readReport(t, rep)
			if n := sim.kc.Stats().TokenRequests(); n != tt.wantTokens || r.Summary.TokenRequests != tt.wantTokens {
				t.Errorf("token requests: %d (report: %d), want %d", n, r.Summary.TokenRequests, tt.wantTokens)
			}
			if r.Summary.Downloaded != 6 {
				t.Errorf("downloaded %d, want 6", r.Summary.Downloaded)
			}
			for _, e := range r.Entries {
				if e.From != tt.wantFrom {
					t.Errorf("%s: from %q, want %s", e.Entry, e.From, tt.wantFrom)
				}
			}
			if n := sim.ts.Stats().AuthorizationSeen; tt.bucketDown && n == 0 {
				t.Error("Terrascope saw no token")
			}
		})
	}
}

// TestAccessBySources: the sources choose the credentials: none for the
// bucket or with --no-auth, the login for Terrascope, SAS tokens for the
// Planetary Computer, both for both, a ready-made token when one is given.
func TestAccessBySources(t *testing.T) {
	base := http.RoundTripper(&http.Transport{})
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // the transports from the outside in, or "refused: " and the error's start
		host string // if set, the first host the bearer transport trusts
	}{
		{"aws", []string{"--source", "aws"}, nil, "base", ""},
		{"--no-auth", []string{"--no-auth"}, creds(), "base", ""},
		{"terrascope", nil, creds(), "bearer>base", ""},
		{"aws then terrascope", []string{"--source", "aws,terrascope"}, creds(), "bearer>base", ""},
		{"pc", []string{"--source", "pc"}, nil, "sas>base", ""},
		{"pc then terrascope", []string{"--source", "pc,terrascope"}, creds(), "bearer>sas>base", ""},
		{"aws with a ready token", []string{"--source", "aws"}, map[string]string{"WCDL_TOKEN": "tok"}, "refused: WCDL_TOKEN would reach no host", ""},
		{"aws mirror with a ready token", []string{"--source", "aws", "--base-url", "aws=https://mirror.example/wc"}, map[string]string{"WCDL_TOKEN": "tok"}, "bearer>base", "mirror.example"},
		{"aws mirror then terrascope with a ready token", []string{"--source", "aws,terrascope", "--base-url", "aws=https://mirror.example/wc"}, map[string]string{"WCDL_TOKEN": "tok"}, "bearer>base", "services.terrascope.be"},
		{"aws with --auth-host and a ready token", []string{"--source", "aws", "--auth-host", "files.example"}, map[string]string{"WCDL_TOKEN": "tok"}, "bearer>base", ""},
		{"pc with a ready token", []string{"--source", "pc"}, map[string]string{"WCDL_TOKEN": "tok"}, "refused: WCDL_TOKEN would reach no host", ""},
		{"pc mirror with an API key", []string{"--source", "pc", "--base-url", "https://mirror.example", "--api-key-header", "X-Key"}, map[string]string{"WCDL_API_KEY": "k"}, "refused: --api-key-header, WCDL_API_KEY would reach no host", ""},
		{"aws with --no-auth", []string{"--source", "aws", "--no-auth"}, map[string]string{"WCDL_TOKEN": "tok"}, "base", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			// A token URL that is not Keycloak's: no discovery request
			// leaves the machine.
			o, _, err := parseArgs(append(tt.args, "--token-url", "http://127.0.0.1:1/oauth2/token", "--client-id", "c"), getenv)
			if err != nil {
				t.Fatal(err)
			}
			c := &command{getenv: getenv, stdin: strings.NewReader(""), stderr: io.Discard}
			acc, err := c.access(t.Context(), o, nil, newConsole(io.Discard, false), slog.New(slog.DiscardHandler))
			if err != nil {
				if !strings.HasPrefix(tt.want, "refused: ") || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), strings.TrimPrefix(tt.want, "refused: ")) {
					t.Fatalf("error %q, want %s", err, tt.want)
				}
				return
			}
			var got []string
			for rt := acc.wrap(base); ; {
				switch x := rt.(type) {
				case *auth.Transport:
					if tt.host != "" && (len(x.Trusted) == 0 || x.Trusted[0] != tt.host) {
						t.Errorf("bearer token trusted for %v, want first %s", x.Trusted, tt.host)
					}
					got, rt = append(got, "bearer"), x.Base
					continue
				case *auth.SASTransport:
					got, rt = append(got, "sas"), x.Base
					continue
				}
				if rt == base {
					got = append(got, "base")
				} else {
					got = append(got, fmt.Sprintf("%T", rt))
				}
				break
			}
			if s := strings.Join(got, ">"); s != tt.want {
				t.Errorf("transports %s, want %s", s, tt.want)
			}
		})
	}
}

// TestGridNamesUnlistedSource: --grid aws where --source does not list aws
// says so, instead of looking for a file called "aws".
func TestGridNamesUnlistedSource(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"aws, default source", []string{"--grid", "aws"}, "--grid aws: names a source that --source terrascope does not list"},
		{"aws, pc listed", []string{"--grid", "aws", "--source", "pc"}, "--grid aws: names a source that --source pc does not list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runWCDL(t, t.Context(), nil, "", nil, append(tt.args, "--bbox", "3,50,7,54", "--dry-run")...)
			if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("exit code %d, stderr:\n%s\nwant exit code %d and %q", res.code, res.stderr, exitUsage, tt.want)
			}
		})
	}
}
