package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// TestRunURLSecretsRedacted downloads an entry whose URL carries a
// signature in its query: it never appears on stdout, stderr (at -v) or in the report, whose entry and url
// fields are written redacted.
func TestRunURLSecretsRedacted(t *testing.T) {
	const secret = "S3CR3T"
	svc := newServices(t, terrascopetest.WithNotFound(func(name string) bool { return strings.Contains(name, "missing") }))
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	rep := filepath.Join(dir, "report.json")
	base := svc.ts.URL() + "/WORLDCOVER/ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_N00E000_Map/ESA_WorldCover_10m_2021_v200_N00E000_Map.tif"
	signed := base + "?X-Amz-Signature=" + secret + "&token=" + secret
	// The manifest refuses user information itself; a missing file makes
	// an error that names its URL.
	missing := svc.ts.URL() + "/nowhere/missing.tif?token=" + secret
	m := writeManifest(t, signed, missing)

	// Each log format writes the per-file results in its own way.
	var res result
	for _, format := range []string{"json", "text"} {
		os.RemoveAll(out)
		res = runWCDL(t, t.Context(), creds(), "", nil, svc.args("-m", m, "-o", out, "--report", rep, "-v", "--log-format", format,
			"--token-url", svc.kc.TokenURL()+"?k="+secret)...) // a key in the token URL too
		if res.code != exitFailed {
			t.Fatalf("--log-format %s: exit code %d, want %d (one entry is missing); stderr:\n%s", format, res.code, exitFailed, res.stderr)
		}
		b, err := os.ReadFile(rep)
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range map[string]string{"stdout": res.stdout, "stderr": res.stderr, "report": string(b)} {
			if strings.Contains(s, secret) {
				t.Errorf("--log-format %s: %s shows a secret of a URL:\n%s", format, name, s)
			}
		}
	}
	r := readReport(t, rep)
	if got, want := r.Entries[0].URL, base+"?…"; got != want {
		t.Errorf("report url = %q, want %q", got, want)
	}
	if r.Entries[0].Status != "downloaded" || r.Entries[1].Status != "failed" || r.Entries[1].Error == "" {
		t.Errorf("report entries = %+v, want the signed one downloaded and the other failed with an error", r.Entries)
	}

	res = runWCDL(t, t.Context(), creds(), "", nil, svc.args("-m", m, "-o", out, "--dry-run")...)
	if strings.Contains(res.stdout+res.stderr, secret) {
		t.Errorf("--dry-run shows a secret of a URL:\n%s%s", res.stdout, res.stderr)
	}
}

// TestRunRefusesInternalNames checks that a manifest naming another
// entry's partial file, or a name with a bidirectional override, is
// refused at plan time with file:line and exit 2, before any download.
func TestRunRefusesInternalNames(t *testing.T) {
	svc := newServices(t)
	out := filepath.Join(t.TempDir(), "out")
	m := writeManifest(t, "https://h.example/x.tif", "https://h.example/x.tif.part", "https://h.example/a%E2%80%AEfit.tif")
	res := runWCDL(t, t.Context(), creds(), "", nil, svc.args("-m", m, "-o", out)...)
	if res.code != exitUsage {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitUsage, res.stderr)
	}
	for _, want := range []string{m + ":2: ", m + ":3: ", "U+202E"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		if ents, _ := os.ReadDir(out); len(ents) > 0 {
			t.Errorf("the output folder holds %d files, want none", len(ents))
		}
	}
}

// TestTimeoutAndSizeFlags checks the defaults and the checks of
// --stall-timeout, --min-rate and --max-file-size, and that --help lists
// them.
func TestTimeoutAndSizeFlags(t *testing.T) {
	o, fs, err := parseArgs(nil, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if o.stallTimeout != 2*time.Minute || o.minRate != "" || o.maxFileSize != "64G" {
		t.Errorf("defaults: stall %v, min-rate %q, max-file-size %q; want 2m, off, 64G", o.stallTimeout, o.minRate, o.maxFileSize)
	}
	for _, f := range []string{"--stall-timeout", "--min-rate", "--max-file-size"} {
		if !strings.Contains(fs.FlagUsages(), f) {
			t.Errorf("--help lacks %s", f)
		}
	}
	o, _, err = parseArgs([]string{"--stall-timeout", "30s", "--min-rate", "10K", "--max-file-size", "2G"}, noEnv)
	if err != nil || o.stallTimeout != 30*time.Second || o.minRate != "10K" || o.maxFileSize != "2G" {
		t.Errorf("got %+v, %v", o, err)
	}
	for _, args := range [][]string{
		{"--stall-timeout", "0s"},
		{"--min-rate", "fast"},
		{"--max-file-size", "huge"},
		{"--max-file-size", ""},
		{"--limit-rate", "100K", "--min-rate", "50K", "-w", "4"},
	} {
		if _, _, err := parseArgs(args, noEnv); !errors.Is(err, errUsage) {
			t.Errorf("parseArgs(%q) = %v, want a usage error", args, err)
		}
	}
}

// TestRunUnsendableTokenExit3 points wcdl at an identity provider whose
// access token holds a line break: the run stops at the grant with exit 3
// and one clear message, instead of failing every request.
func TestRunUnsendableTokenExit3(t *testing.T) {
	svc := newServices(t)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"abc\r\nX-Injected: 1","token_type":"Bearer","expires_in":300}`)
	}))
	t.Cleanup(idp.Close)
	out := filepath.Join(t.TempDir(), "out")
	m := writeManifest(t, tiles(3)...)
	args := append(svc.args("-m", m, "-o", out), "--token-url", idp.URL+"/realms/r/protocol/openid-connect/token")
	res := runWCDL(t, t.Context(), creds(), "", nil, args...)
	if res.code != exitAuth {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitAuth, res.stderr)
	}
	if n := strings.Count(res.stderr, "cannot be sent"); n < 1 || strings.Contains(res.stderr, "X-Injected") {
		t.Errorf("stderr names the refusal %d times (want at least once) or quotes the token:\n%s", n, res.stderr)
	}
	if n := svc.ts.Stats().Requests; n != 0 {
		t.Errorf("%d download requests, want 0", n)
	}
}

// TestRunReportThroughLinkNotFollowed plants a symbolic link at the report's
// name: the report replaces the link, and the file it pointed to is left
// as it was.
func TestRunReportThroughLinkNotFollowed(t *testing.T) {
	svc := newServices(t)
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(dir, "report.json")
	if err := os.Symlink(victim, rep); err != nil {
		t.Fatal(err)
	}
	res := runWCDL(t, t.Context(), creds(), "", nil, svc.args("-m", writeManifest(t, tiles(1)...), "-o", filepath.Join(dir, "out"), "--report", rep)...)
	if res.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", res.code, res.stderr)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the link's target was written: %q", b)
	}
	if fi, err := os.Lstat(rep); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("report is not a regular file: %v, %v", fi, err)
	}
	readReport(t, rep)
}
