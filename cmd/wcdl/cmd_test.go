package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

func TestRunDownloadsAndReports(t *testing.T) {
	svc := newServices(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	rep := filepath.Join(dir, "report.json")
	m := writeManifest(t, append([]string{"# equator"}, tiles(6)...)...)

	res := runWCDL(t, t.Context(), creds(), "", nil, svc.args("-manifest", m, "-o", out, "--report", rep, "-v")...)
	if res.code != exitOK {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitOK, res.stderr)
	}
	r := readReport(t, rep)
	assertComplete(t, svc.ts, out, r)
	if r.ExitCode != exitOK || r.Summary.Entries != 6 || r.Summary.Downloaded != 6 || r.Summary.PasswordGrants != 1 {
		t.Errorf("report summary = %+v, exit %d; want 6 entries downloaded with one password grant, exit 0", r.Summary, r.ExitCode)
	}
	if got, want := r.Summary.Bytes, int64(6*fileSize); got != want {
		t.Errorf("report bytes = %d, want %d", got, want)
	}
	e := r.Entries[0]
	wantURL := svc.ts.URL() + "/WORLDCOVER/ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_N00E000_Map/ESA_WorldCover_10m_2021_v200_N00E000_Map.tif"
	if e.Entry != "N00E000" || e.Source != m+":2" || e.URL != wantURL || e.Status != "downloaded" ||
		e.Attempts != 1 || e.Size != fileSize || e.SHA256 != svc.ts.SHA256(wantURL) ||
		e.Path != filepath.Join(out, "ESA_WorldCover_10m_2021_v200_N00E000_Map.tif") {
		t.Errorf("first report record = %+v, want N00E000 from %s:2 downloaded to its product name with the served sha256", e, m)
	}
	if r.Options.Workers != 4 || r.Options.Years != "2021" || r.Options.Out != out {
		t.Errorf("report options = %+v, want the defaults and -o %s", r.Options, out)
	}
	if strings.ContainsAny(res.stderr, "\r\x1b") {
		t.Errorf("non-terminal output holds a carriage return or an escape code:\n%q", res.stderr)
	}
	if !strings.Contains(res.stderr, "6 downloaded") {
		t.Errorf("stderr has no summary with 6 downloaded:\n%s", res.stderr)
	}
	if st := svc.kc.Stats(); st.Logouts != 1 || st.LiveSessions != 0 {
		t.Errorf("keycloak: %d logouts, %d live sessions; want the run's session ended", st.Logouts, st.LiveSessions)
	}
	b, _ := os.ReadFile(rep)
	assertNoSecrets(t, svc, res.stdout, res.stderr, string(b))

	// A rerun finds every file complete and asks the service for nothing.
	before := svc.ts.Stats().Requests
	res = runWCDL(t, t.Context(), creds(), "", nil, svc.args("-manifest", m, "-o", out, "--report", rep)...)
	if res.code != exitOK {
		t.Fatalf("rerun: exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	if got := svc.ts.Stats().Requests - before; got != 0 {
		t.Errorf("rerun made %d download requests, want 0", got)
	}
	if r := readReport(t, rep); r.Summary.Skipped != 6 {
		t.Errorf("rerun summary = %+v, want 6 skipped", r.Summary)
	}
}

func TestRunExitCodes(t *testing.T) {
	missing := "S15W048"
	svc := newServices(t, terrascopetest.WithNotFound(func(name string) bool { return strings.Contains(name, missing) }))
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    int
		stderr  string // a part of stderr the case must show
		nothing bool   // nothing may be downloaded
	}{
		{"all downloaded", creds(), []string{"-m", writeManifest(t, "N00E006")}, exitOK, "1 downloaded", false},
		{"missing from a box is allowed", creds(), []string{"--bbox", "-47.5,-14.5,-47,-14"}, exitOK, "1 missing", true},
		{"a failed entry", creds(), []string{"-m", writeManifest(t, "N00E009", missing)}, exitFailed, "1 failed", false},
		{"unknown flag", creds(), []string{"--frobnicate"}, exitUsage, "unknown flag: --frobnicate", true},
		{"no manifest", creds(), nil, exitUsage, "nothing to download", true},
		{"bad manifest line", creds(), []string{"-m", writeManifest(t, "N00E006", "N01E006")}, exitUsage, "tiles.txt:2:", true},
		{"missing manifest file", creds(), []string{"-m", "/nonexistent/tiles.txt"}, exitUsage, "/nonexistent/tiles.txt", true},
		{"bad shard", creds(), []string{"-m", writeManifest(t, "N00E006"), "--shard", "3/3"}, exitUsage, "--shard", true},
		{"wrong password", map[string]string{"WCDL_USERNAME": testUser, "WCDL_PASSWORD": "wrong-" + testPassword}, []string{"-m", writeManifest(t, "N03E006")}, exitAuth, "login failed, the batch was stopped: token endpoint answered 401", true},
		{"no credentials", map[string]string{}, []string{"-m", writeManifest(t, "N03E006")}, exitUsage, "WCDL_USERNAME", true},
		{"unknown flag, nearest suggested", creds(), []string{"--worker", "3"}, exitUsage, "unknown flag: --worker (did you mean --workers?)", true},
		{"UTF-16 manifest", creds(), []string{"-m", writeFile(t, "tiles.txt", "\xff\xfeN\x000\x000\x00E\x000\x000\x006\x00\n\x00")}, exitUsage, "tiles.txt: the manifest is UTF-16LE text", true},
		{"box of more than 180 degrees across the antimeridian", creds(), []string{"--bbox", "10,0,-10,1", "--dry-run"}, exitOK, "spans 340° of longitude", true},
		{"empty plan", creds(), []string{"-m", writeManifest(t, "# nothing yet")}, exitOK, "wcdl: warning: the plan is empty", true},
		{"empty shard", creds(), []string{"-m", writeManifest(t, "N00E006"), "--shard", "1/2"}, exitOK, "wcdl: warning: shard 1/2 is empty: the plan has 1 entry", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			before := svc.ts.Stats().ByStatus[200]
			res := runWCDL(t, t.Context(), tt.env, "", nil, svc.args(append(tt.args, "-o", out)...)...)
			if res.code != tt.want {
				t.Errorf("exit code %d, want %d; stderr:\n%s", res.code, tt.want, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.stderr) {
				t.Errorf("stderr does not say %q:\n%s", tt.stderr, res.stderr)
			}
			if tt.nothing {
				if got := svc.ts.Stats().ByStatus[200] - before; got != 0 {
					t.Errorf("%d files were downloaded, want none", got)
				}
				if des, _ := os.ReadDir(out); len(des) != 0 {
					t.Errorf("the output folder holds %d files, want none", len(des))
				}
			}
			assertNoSecrets(t, svc, res.stdout, res.stderr)
		})
	}
}

func TestRunWrongPasswordLogsInOnce(t *testing.T) {
	svc := newServices(t)
	env := map[string]string{"WCDL_USERNAME": testUser, "WCDL_PASSWORD": "not-the-password"}
	res := runWCDL(t, t.Context(), env, "", nil, svc.args("-m", writeManifest(t, tiles(8)...), "-w", "8", "-o", t.TempDir())...)
	if res.code != exitAuth {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitAuth, res.stderr)
	}
	if st := svc.kc.Stats(); st.FailedPasswordGrants != 1 || st.PasswordGrants != 0 {
		t.Errorf("keycloak saw %d failed and %d good password grants, want exactly one failed login", st.FailedPasswordGrants, st.PasswordGrants)
	}
	if strings.Contains(res.stderr, "not-the-password") {
		t.Error("the rejected password appears in stderr")
	}
}

func TestRunDryRunAsksForNoToken(t *testing.T) {
	svc := newServices(t)
	out := filepath.Join(t.TempDir(), "out")
	res := runWCDL(t, t.Context(), map[string]string{}, "N00E006\n", nil,
		svc.args("-manifest", "-", "--year", "2020,2021", "--dry-run", "-o", out)...)
	if res.code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	want := svc.ts.URL() + "/WORLDCOVER/ESA_WORLDCOVER_10M_2020_V100/MAP/ESA_WorldCover_10m_2020_v100_N00E006_Map/ESA_WorldCover_10m_2020_v100_N00E006_Map.tif\t" +
		filepath.Join(out, "ESA_WorldCover_10m_2020_v100_N00E006_Map.tif") + "\n" +
		svc.ts.URL() + "/WORLDCOVER/ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_N00E006_Map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif\t" +
		filepath.Join(out, "ESA_WorldCover_10m_2021_v200_N00E006_Map.tif") + "\n"
	if res.stdout != want {
		t.Errorf("dry run printed\n%s\nwant\n%s", res.stdout, want)
	}
	if st := svc.kc.Stats(); st.Received != 0 {
		t.Errorf("dry run made %d token requests, want 0", st.Received)
	}
	if n := svc.ts.Stats().Requests; n != 0 {
		t.Errorf("dry run made %d download requests, want 0", n)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("dry run created the output folder (stat: %v)", err)
	}
}

// closed is a channel that is always closed.
var closed = func() <-chan struct{} { c := make(chan struct{}); close(c); return c }()

// TestRunInterruptThenResume interrupts a run while four files are under
// way and three are queued: the report says 1 downloaded, 4 interrupted
// and 3 not started, stderr says so in a few lines, the bar stays where it
// was, and a rerun resumes the parts.
func TestRunInterruptThenResume(t *testing.T) {
	for _, mode := range []string{"plain", "bar", "none"} {
		t.Run(mode, func(t *testing.T) {
			// One file smaller than the service holds bodies at: it ends,
			// the others stop after their first held bytes.
			const small, held = "N00E000", 256 << 10
			size := func(name string) int64 {
				if strings.Contains(name, small) {
					return 16 << 10
				}
				return 1 << 20
			}
			svc := newServices(t, terrascopetest.WithSizeFunc(size))
			svc.ts.Hold(held)
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			rep := filepath.Join(dir, "report.json")
			m := writeManifest(t, tiles(8)...)

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			stderr := &syncBuffer{}
			drawn := closed
			if mode == "bar" {
				drawn = stderr.notifyOn("1/8 files") // the bar shows the state held
			}
			go func() {
				// Four bodies held: the small file is done and four
				// workers wait with bytes in their parts.
				if waitStats(ctx, svc.ts, nil, func(s terrascopetest.Stats) bool { return s.Held == 4 }) &&
					waitParts(ctx, nil, out, 4, held) {
					select {
					case <-drawn:
						cancel()
					case <-ctx.Done():
					}
				}
			}()
			res := runWCDL(t, ctx, creds(), "", stderr, svc.args("-m", m, "-o", out, "-w", "4", "--report", rep, "--progress", mode)...)
			if res.code != exitInterrupted {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitInterrupted, res.stderr)
			}
			r := readReport(t, rep)
			if s := r.Summary; r.ExitCode != exitInterrupted || s.Downloaded != 1 || s.Interrupted != 4 || s.NotStarted != 3 || s.Failed != 0 {
				t.Errorf("report after the interrupt: exit %d, summary %+v; want 130, 1 downloaded, 4 interrupted, 3 not started, 0 failed", r.ExitCode, r.Summary)
			}
			statuses := map[string]int{}
			for _, e := range r.Entries {
				statuses[e.Status]++
			}
			if statuses["interrupted"] != 4 || statuses["not_started"] != 3 {
				t.Errorf("report entries by status: %v, want 4 interrupted and 3 not_started", statuses)
			}
			parts, _ := filepath.Glob(filepath.Join(out, "*.part"))
			if len(parts) != 4 {
				t.Errorf("%d .part files kept, want 4", len(parts))
			}
			if st := svc.kc.Stats(); st.LiveSessions != 0 {
				t.Errorf("%d Keycloak sessions left open after the interrupt, want 0", st.LiveSessions)
			}
			lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
			if mode != "bar" && len(lines) > 4 {
				t.Errorf("stderr after an interrupt: %d lines, want at most 4:\n%s", len(lines), res.stderr)
			}
			if strings.Contains(res.stderr, "failed") {
				t.Errorf("stderr calls something failed after an interrupt:\n%s", res.stderr)
			}
			if want := "wcdl: interrupted; 4 partial files kept, the next run resumes them"; !strings.Contains(res.stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
			}
			if want := "wcdl: 8 files: 1 downloaded, 4 interrupted, 3 not started"; !strings.Contains(res.stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
			}
			if mode == "bar" && (strings.Contains(res.stderr, "100%") || strings.Contains(res.stderr, "8/8 files")) {
				t.Errorf("the bar went to its end after the interrupt:\n%q", res.stderr)
			}

			svc.ts.Release()
			res = runWCDL(t, t.Context(), creds(), "", nil, svc.args("-m", m, "-o", out, "-w", "4", "--report", rep)...)
			if res.code != exitOK {
				t.Fatalf("rerun: exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
			}
			assertComplete(t, svc.ts, out, readReport(t, rep))
			if served, batch := svc.ts.Stats().BytesServed, int64(16<<10+7<<20); served != batch {
				t.Errorf("the service sent %d bytes for a %d-byte batch: parts were not resumed", served, batch)
			}
		})
	}
}

func TestRunShardsCoverThePlanOnce(t *testing.T) {
	svc := newServices(t)
	m := writeManifest(t, tiles(20)...)
	seen := map[string]int{}
	for k := range 3 {
		rep := filepath.Join(t.TempDir(), "report.json")
		res := runWCDL(t, t.Context(), creds(), "", nil,
			svc.args("-m", m, "-o", t.TempDir(), "--shard", []string{"0/3", "1/3", "2/3"}[k], "--report", rep, "-q")...)
		if res.code != exitOK {
			t.Fatalf("shard %d/3: exit code %d; stderr:\n%s", k, res.code, res.stderr)
		}
		if res.stderr != "" {
			t.Errorf("shard %d/3 with -q printed to stderr:\n%s", k, res.stderr)
		}
		for _, e := range readReport(t, rep).Entries {
			seen[e.Entry]++
		}
	}
	for _, id := range tiles(20) {
		if seen[id] != 1 {
			t.Errorf("tile %s was downloaded by %d shards, want exactly 1", id, seen[id])
		}
	}
	if len(seen) != 20 {
		t.Errorf("the shards downloaded %d distinct entries, want 20", len(seen))
	}
}

func TestRunSimulate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tiles")
	rep := filepath.Join(t.TempDir(), "report.json")
	var sim *simulator
	c := &command{
		getenv:    func(string) string { return "" },
		stdin:     strings.NewReader(""),
		stdout:    &syncBuffer{},
		stderr:    &syncBuffer{},
		simulated: func(s *simulator) { sim = s },
	}
	code := c.run(t.Context(), []string{"--simulate", "--simulate-rate", "0", "-manifest", "../../testdata/tiles.txt", "-o", out, "--report", rep})
	stderr := c.stderr.(*syncBuffer).String()
	if code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "simulating") {
		t.Errorf("stderr does not say the run is simulated:\n%s", stderr)
	}
	r := readReport(t, rep)
	if r.Summary.Downloaded != 6 {
		t.Errorf("simulated run downloaded %d files, want the 6 of testdata/tiles.txt", r.Summary.Downloaded)
	}
	assertComplete(t, sim.ts, out, r)
	// The simulator speaks TLS, offering HTTP/2; the downloads still
	// take a connection each, and nothing throttled them.
	if !strings.HasPrefix(sim.ts.URL(), "https://") {
		t.Errorf("simulator at %s, want https", sim.ts.URL())
	}
	if st := sim.ts.Stats(); st.Connections < 1 || st.Connections > 4 || st.MaxInFlight > 4 {
		t.Errorf("the simulator saw %d connections and %d downloads at once, want 1 to 4 and at most the 4 workers", st.Connections, st.MaxInFlight)
	}
	if r.Summary.Concurrency != 4 || r.Summary.ConcurrencyLowest != 4 || r.Summary.Throttled != 0 {
		t.Errorf("report concurrency %d lowest %d throttled %d, want 4 4 0", r.Summary.Concurrency, r.Summary.ConcurrencyLowest, r.Summary.Throttled)
	}
	if strings.Contains(stderr, simPassword) {
		t.Error("the demo password appears in stderr")
	}
}

// TestRunQuietPrintsErrors: -q prints nothing for a good run (see
// TestRunShardsCoverThePlanOnce), but one line per failed entry, and the
// one-line reason when a batch stops.
func TestRunQuietPrintsErrors(t *testing.T) {
	gone := []string{"S15W048", "S15W045"}
	svc := newServices(t, terrascopetest.WithNotFound(func(name string) bool {
		return strings.Contains(name, gone[0]) || strings.Contains(name, gone[1])
	}))
	t.Run("failed entries", func(t *testing.T) {
		res := runWCDL(t, t.Context(), creds(), "", nil,
			svc.args("-q", "-m", writeManifest(t, "N00E006", gone[0], gone[1]), "-o", t.TempDir())...)
		if res.code != exitFailed {
			t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitFailed, res.stderr)
		}
		lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
		if len(lines) != 2 {
			t.Fatalf("stderr with -q: %d lines, want 2 (one per failed entry):\n%s", len(lines), res.stderr)
		}
		for i, l := range lines {
			if !strings.HasPrefix(l, "failed ") || !strings.Contains(l, gone[i]) || !strings.Contains(l, "404") {
				t.Errorf("line %d: %q, want \"failed <name of %s>: ... 404 ...\"", i+1, l, gone[i])
			}
		}
		assertNoSecrets(t, svc, res.stdout, res.stderr)
	})
	t.Run("batch stopped", func(t *testing.T) {
		env := map[string]string{"WCDL_USERNAME": testUser, "WCDL_PASSWORD": "wrong-" + testPassword}
		res := runWCDL(t, t.Context(), env, "", nil, svc.args("-q", "-m", writeManifest(t, tiles(6)...), "-o", t.TempDir())...)
		if res.code != exitAuth {
			t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitAuth, res.stderr)
		}
		lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
		if want := "wcdl: login failed, the batch was stopped: "; len(lines) != 1 || !strings.HasPrefix(lines[0], want) {
			t.Errorf("stderr with -q: %q, want the one line %q...", lines, want)
		}
		assertNoSecrets(t, svc, res.stdout, res.stderr)
	})
}

// writeFile writes body to a file named name in a new folder and returns
// its path.
func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunInterruptDuringRetryWait interrupts a run whose files all wait
// out a 429's Retry-After, with no byte received: the line after the
// interrupt does not claim partial files that are not there.
func TestRunInterruptDuringRetryWait(t *testing.T) {
	svc := newServices(t, terrascopetest.WithFail429(1, time.Hour))
	out := filepath.Join(t.TempDir(), "out")
	m := writeManifest(t, tiles(2)...)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		if waitStats(ctx, svc.ts, nil, func(s terrascopetest.Stats) bool { return s.ByStatus[http.StatusTooManyRequests] >= 2 }) {
			cancel()
		}
	}()
	res := runWCDL(t, ctx, creds(), "", nil, svc.args("-m", m, "-o", out, "-w", "2", "--retry-max-wait", "1h")...)
	if res.code != exitInterrupted {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitInterrupted, res.stderr)
	}
	if parts, _ := filepath.Glob(filepath.Join(out, "*.part")); len(parts) != 0 {
		t.Fatalf("parts kept: %v, want none (no byte was received)", parts)
	}
	if strings.Contains(res.stderr, "partial file") {
		t.Errorf("stderr claims partial files that are not there:\n%s", res.stderr)
	}
	if want := "wcdl: interrupted; the next run starts where this one stopped"; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
	}
}
