package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcdl/wcdl/auth/keycloaktest"
	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// The chaos suite runs the real wcdl binary, built with the race detector,
// against in-process fakes of Keycloak and the download service.

const (
	chaosUser     = "chaos@example.org"
	chaosPassword = "chaos-pw-7Hq!vX2-battery-staple"
)

var (
	chaosBinOnce sync.Once
	chaosBinDir  string
	chaosBin     string
	chaosBinErr  error
)

// TestMain removes the binary the chaos tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if chaosBinDir != "" {
		os.RemoveAll(chaosBinDir)
	}
	os.Exit(code)
}

// chaosBinary builds wcdl with -race once per test process and returns its
// path. Chaos tests are skipped under -short.
func chaosBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("chaos suite: skipped under -short")
	}
	chaosBinOnce.Do(func() {
		chaosBinDir, chaosBinErr = os.MkdirTemp("", "wcdl-chaos-")
		if chaosBinErr != nil {
			return
		}
		chaosBin = filepath.Join(chaosBinDir, "wcdl")
		cmd := exec.Command("go", "build", "-race", "-o", chaosBin, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			chaosBinErr = fmt.Errorf("go build -race: %v\n%s", err, out)
		}
	})
	if chaosBinErr != nil {
		t.Fatal(chaosBinErr)
	}
	return chaosBin
}

// chaosFakes is a fake Keycloak behind a recording front, and a fake
// download service that trusts it.
type chaosFakes struct {
	kc       *keycloaktest.Server
	ts       *terrascopetest.Server
	front    *httptest.Server // the recording front of kc
	tokenURL string
	rec      *tokenRecorder
}

func newChaosFakes(t *testing.T, kcOpts []keycloaktest.Option, tsOpts ...terrascopetest.Option) *chaosFakes {
	t.Helper()
	kc := keycloaktest.NewServer(append([]keycloaktest.Option{keycloaktest.WithUser(chaosUser, chaosPassword)}, kcOpts...)...)
	t.Cleanup(kc.Close)
	rec := &tokenRecorder{next: kc}
	front := httptest.NewServer(rec)
	t.Cleanup(front.Close)
	ts := terrascopetest.NewServer(kc, tsOpts...)
	t.Cleanup(ts.Close)
	return &chaosFakes{
		kc: kc, ts: ts, front: front, rec: rec,
		tokenURL: front.URL + strings.TrimPrefix(kc.TokenURL(), kc.URL()),
	}
}

// args are the flags that point wcdl at the fakes.
func (f *chaosFakes) args(extra ...string) []string {
	return append([]string{
		"--token-url", f.tokenURL, "--client-id", keycloaktest.DefaultClient, "--base-url", f.ts.URL(),
	}, extra...)
}

// tokenRecorder passes requests to the fake Keycloak and records every
// access and refresh token it issues, so the suite can look for them in
// wcdl's output.
type tokenRecorder struct {
	next   http.Handler
	mu     sync.Mutex
	tokens []string
}

func (r *tokenRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rw := &recordingWriter{ResponseWriter: w}
	r.next.ServeHTTP(rw, req)
	var body struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
		ID      string `json:"id_token"`
	}
	if json.Unmarshal(rw.buf.Bytes(), &body) == nil {
		r.mu.Lock()
		for _, tok := range []string{body.Access, body.Refresh, body.ID} {
			if tok != "" {
				r.tokens = append(r.tokens, tok)
			}
		}
		r.mu.Unlock()
	}
}

// secrets returns every token issued so far.
func (r *tokenRecorder) secrets() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.tokens)
}

type recordingWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	return w.ResponseWriter.Write(p)
}

// chaosRun is one process of wcdl.
type chaosRun struct {
	name    string
	cmd     *exec.Cmd
	stdout  *syncBuffer
	stderr  *syncBuffer
	started time.Time
	elapsed time.Duration
	code    int
	report  string // path of --report
}

// startChaos starts the binary with args and the credentials in its
// environment. On failure of t, the stderr tail of the run is logged.
func startChaos(t *testing.T, name, password string, args ...string) *chaosRun {
	t.Helper()
	bin := chaosBinary(t)
	r := &chaosRun{name: name, stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	r.cmd = exec.Command(bin, args...)
	r.cmd.Env = append(chaosBaseEnv(), "WCDL_USERNAME="+chaosUser, "WCDL_PASSWORD="+password)
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	r.started = time.Now()
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", name, err)
	}
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
			r.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("%s: stderr tail:\n%s", r.name, tailLines(r.stderr.String(), 40))
		}
	})
	return r
}

// chaosBaseEnv is a minimal environment: no WCDL_* or proxy settings of the
// machine running the suite, and no ~/.netrc.
func chaosBaseEnv() []string {
	env := []string{"HOME=" + os.TempDir(), "NETRC=/nonexistent/netrc"}
	for _, k := range []string{"PATH", "TMPDIR", "GORACE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// wait waits for the process to exit and records its exit code.
func (r *chaosRun) wait(t *testing.T) int {
	t.Helper()
	err := r.cmd.Wait()
	r.elapsed = time.Since(r.started)
	r.code = r.cmd.ProcessState.ExitCode()
	if err != nil && r.code < 0 {
		r.code = -1
	}
	return r.code
}

// runChaos starts the binary and waits for it.
func runChaos(t *testing.T, name, password string, args ...string) *chaosRun {
	t.Helper()
	r := startChaos(t, name, password, args...)
	r.wait(t)
	return r
}

// wantExit fails the test unless the run exited with want.
func (r *chaosRun) wantExit(t *testing.T, want int) {
	t.Helper()
	if r.code != want {
		t.Fatalf("%s: exit code: got %d, want %d\nstderr tail:\n%s", r.name, r.code, want, tailLines(r.stderr.String(), 40))
	}
}

// chaosNames returns n product names of distinct WorldCover tiles.
func chaosNames(n, first int) []string {
	var out []string
	for i := first; i < first+n; i++ {
		lat, lon := (i/60)*3, (i%60)*3
		out = append(out, fmt.Sprintf("ESA_WorldCover_10m_2021_v200_N%02dE%03d_Map", lat, lon))
	}
	return out
}

// writeChaosManifest writes names as a manifest in dir.
func writeChaosManifest(t *testing.T, dir, file string, names []string) string {
	t.Helper()
	p := filepath.Join(dir, file)
	body := "# chaos suite\n" + strings.Join(names, "\n") + "\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// assertFiles checks that dir holds exactly one file per name, each
// byte-identical to what srv serves, and nothing else (no .part, .meta,
// .lock or temporary file). It returns the sidecars it found beside a
// complete final file (<final>.lock, <final>.part.meta[.*.tmp]): the caller
// decides whether they are errors.
func assertFiles(t *testing.T, srv *terrascopetest.Server, dir string, names []string) (sidecars []string) {
	t.Helper()
	want := map[string]string{} // file name -> URL
	for _, n := range names {
		want[n+".tif"] = srv.URL() + "/" + productPath(n)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading the output folder: %v", err)
	}
	seen := map[string]bool{}
	for _, e := range ents {
		u, ok := want[e.Name()]
		if !ok || !e.Type().IsRegular() {
			if final, _, cut := strings.Cut(e.Name(), ".tif."); cut && want[final+".tif"] != "" && !strings.HasSuffix(e.Name(), ".tif.part") {
				sidecars = append(sidecars, e.Name())
				continue
			}
			t.Errorf("output folder: unexpected %s (mode %v); want only final files", e.Name(), e.Type())
			continue
		}
		seen[e.Name()] = true
		got, wantSum := fileSHA256(t, filepath.Join(dir, e.Name())), srv.SHA256(u)
		if got != wantSum {
			t.Errorf("%s: sha256 %s, want %s (the server's)", e.Name(), got, wantSum)
		}
	}
	for n := range want {
		if !seen[n] {
			t.Errorf("output folder: %s missing", n)
		}
	}
	return sidecars
}

// assertNoSidecars fails for every sidecar assertFiles found.
func assertNoSidecars(t *testing.T, sidecars []string) {
	t.Helper()
	for _, s := range sidecars {
		t.Errorf("output folder: unexpected %s left beside its final file", s)
	}
}

// productPath is the service path of a WorldCover product name.
func productPath(name string) string {
	// ESA_WorldCover_10m_2021_v200_N00E000_Map
	parts := strings.Split(name, "_")
	year, ver, layer := parts[3], parts[4], parts[6]
	coll := fmt.Sprintf("ESA_WORLDCOVER_10M_%s_%s", year, strings.ToUpper(ver))
	return fmt.Sprintf("WORLDCOVER/%s/%s/%s/%s.tif", coll, strings.ToUpper(layer), name, name)
}

// assertNoLeak fails if any of secrets (the password, the tokens the fake
// Keycloak issued) appears in a run's stdout, stderr or report.
func assertNoLeak(t *testing.T, secrets []string, runs ...*chaosRun) {
	t.Helper()
	for _, r := range runs {
		outputs := map[string]string{"stdout": r.stdout.String(), "stderr": r.stderr.String()}
		if r.report != "" {
			if b, err := os.ReadFile(r.report); err == nil {
				outputs["report"] = string(b)
			}
		}
		for where, text := range outputs {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					kind := "a token"
					if !strings.HasPrefix(s, "ey") && len(s) < 64 {
						kind = "a password"
					}
					t.Errorf("%s: %s holds %s", r.name, where, kind)
				}
			}
		}
	}
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitStats waits until cond holds for the server's counters, stop is
// closed or ctx ends, and reports whether cond held.
func waitStats(ctx context.Context, ts *terrascopetest.Server, stop <-chan struct{}, cond func(terrascopetest.Stats) bool) bool {
	select {
	case <-ts.WaitFor(cond):
		return true
	case <-stop:
	case <-ctx.Done():
	}
	return false
}
