package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/wcdl/wcdl/auth/keycloaktest"
	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// chaosCommon are the flags every chaos run shares: short retry waits, so
// that 503s and 429s do not stall the suite, and a budget large enough that
// the injected faults never exhaust it.
func chaosCommon(dir, manifestPath string, workers int) []string {
	return []string{
		"--progress", "plain",
		"--retries", "12", "--retry-max-wait", "2s",
		"-w", fmt.Sprint(workers),
		"-o", filepath.Join(dir, "out"),
		"-m", manifestPath,
	}
}

// TestChaosFaults runs a batch through every fault the fake service can
// inject at once, with two-second rotating tokens and Range switched off for
// part of the run, at debug verbosity. Every file must arrive byte for byte,
// with one login, no broken refresh chain, a bounded number of token
// requests and no request before its Retry-After.
func TestChaosFaults(t *testing.T) {
	chaosBinary(t) // skips under -short, builds once
	const (
		files    = 48
		size     = 256 << 10
		lifetime = 2 * time.Second
	)
	tests := []struct {
		name        string
		revokeEvery int // 0: never
	}{
		{name: "rotation without revocation", revokeEvery: 0},
		// The service drops every access token on each 20th download
		// (keycloaktest.RevokeAccess): a refresh grant recovers, with no
		// second login.
		{name: "rotation with revocation", revokeEvery: 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tsOpts := []terrascopetest.Option{
				terrascopetest.WithFileSize(size),
				terrascopetest.WithSeed(7),
				terrascopetest.WithFail503(0.05),
				terrascopetest.WithFail429(0.03, time.Second),
				terrascopetest.WithCutBody(0.10),
				terrascopetest.WithHTML(0.02),
				// About six seconds for the batch: tokens get renewed a few
				// times mid-transfer.
				terrascopetest.WithBandwidth(2 << 20),
			}
			if tc.revokeEvery > 0 {
				tsOpts = append(tsOpts, terrascopetest.WithRevokeEvery(tc.revokeEvery))
			}
			f := newChaosFakes(t, []keycloaktest.Option{
				keycloaktest.WithAccessLifetime(lifetime),
				keycloaktest.WithRotation(true),
			}, tsOpts...)
			dir := t.TempDir()
			names := chaosNames(files, 0)
			m := writeChaosManifest(t, dir, "tiles.txt", names)
			rep := filepath.Join(dir, "report.json")
			args := f.args(append(chaosCommon(dir, m, 8), "-v", "--report", rep)...)

			// Range goes off once a fifth of the expected requests are
			// seen, and on again after about three quarters.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			done := make(chan struct{})
			toggled := make(chan [2]int64, 1)
			go func() {
				var off, on int64
				if waitStats(ctx, f.ts, done, func(s terrascopetest.Stats) bool { return s.Requests >= files/5 }) {
					f.ts.SetRange(false)
					off = f.ts.Stats().Requests
					if waitStats(ctx, f.ts, done, func(s terrascopetest.Stats) bool { return s.Requests >= files*3/4 }) {
						on = f.ts.Stats().Requests
					}
				}
				f.ts.SetRange(true)
				toggled <- [2]int64{off, on}
			}()

			r := startChaos(t, "wcdl", chaosPassword, args...)
			r.report = rep
			r.wait(t)
			close(done)
			tog := <-toggled
			r.wantExit(t, 0)

			kst, tst := f.kc.Stats(), f.ts.Stats()
			t.Logf("elapsed %v; token requests %d (password %d, refresh %d, failed password %d, failed refresh %d); revocations %d; requests %d %v; bytes served %d; cut bodies %d; range requests %d; range off at request %d, on at %d",
				r.elapsed.Round(time.Millisecond), kst.TokenRequests(), kst.PasswordGrants, kst.RefreshGrants,
				kst.FailedPasswordGrants, kst.FailedRefreshGrants, tst.Revocations, tst.Requests, tst.ByStatus,
				tst.BytesServed, tst.CutBodies, tst.RangeRequests, tog[0], tog[1])

			assertNoSidecars(t, assertFiles(t, f.ts, filepath.Join(dir, "out"), names))
			if tog[0] == 0 || tog[1] == 0 {
				t.Errorf("Range was not switched off and on during the run (off at request %d, on at %d)", tog[0], tog[1])
			}
			if faults := tst.CutBodies + tst.ByStatus[503] + tst.ByStatus[429]; faults < 3 {
				t.Errorf("faults injected: %d cut bodies, %d 503s, %d 429s; want at least 3 in all, or the run proves little",
					tst.CutBodies, tst.ByStatus[503], tst.ByStatus[429])
			}
			if tst.EarlyRetries != 0 {
				t.Errorf("early retries: got %d, want 0 (no request sooner than its Retry-After)", tst.EarlyRetries)
			}
			if kst.PasswordGrants != 1 || kst.FailedRefreshGrants != 0 || kst.FailedPasswordGrants != 0 {
				t.Errorf("grants: got %d password, %d failed refresh, %d failed password; want 1, 0, 0 (one login, an unbroken refresh chain)",
					kst.PasswordGrants, kst.FailedRefreshGrants, kst.FailedPasswordGrants)
			}
			if tc.revokeEvery > 0 && tst.Revocations == 0 {
				t.Errorf("revocations: got 0, want some")
			}
			// One renewal per lifetime (less its margin of a tenth, which
			// the constant absorbs on a run this short), one refresh per
			// revocation, and the login.
			bound := int64(r.elapsed.Seconds()/lifetime.Seconds()) + tst.Revocations + 3
			if got := kst.TokenRequests(); got > bound {
				t.Errorf("token requests: got %d, want <= %d (elapsed %v / lifetime %v + %d revocations + 3)",
					got, bound, r.elapsed.Round(time.Millisecond), lifetime, tst.Revocations)
			}

			got := readReport(t, rep)
			if got.ExitCode != 0 || got.Summary.Entries != files || got.Summary.Downloaded != files || got.Summary.Failed != 0 {
				t.Errorf("report summary: got exit %d, %d entries, %d downloaded, %d failed; want 0, %d, %d, 0",
					got.ExitCode, got.Summary.Entries, got.Summary.Downloaded, got.Summary.Failed, files, files)
			}
			// The report counts grant requests sent, successful or not.
			if got.Summary.PasswordGrants != kst.PasswordGrants+kst.FailedPasswordGrants ||
				got.Summary.RefreshGrants != kst.RefreshGrants+kst.FailedRefreshGrants ||
				got.Summary.TokenRequests != kst.TokenRequests() {
				t.Errorf("report grants: got %d password, %d refresh, %d token requests; the server answered %d+%d password, %d+%d refresh (ok+failed), %d in all",
					got.Summary.PasswordGrants, got.Summary.RefreshGrants, got.Summary.TokenRequests,
					kst.PasswordGrants, kst.FailedPasswordGrants, kst.RefreshGrants, kst.FailedRefreshGrants, kst.TokenRequests())
			}
			if got.Summary.Bytes < files*size || got.Summary.Bytes > tst.BytesServed {
				t.Errorf("report bytes: got %d, want between %d (the batch) and %d (served)", got.Summary.Bytes, files*size, tst.BytesServed)
			}
			for _, e := range got.Entries {
				if want := f.ts.SHA256(e.URL); e.Status != "downloaded" || e.SHA256 != want || e.Size != size {
					t.Errorf("report entry %s: got %s, size %d, sha256 %s; want downloaded, %d, %s", e.Entry, e.Status, e.Size, e.SHA256, size, want)
				}
			}
			assertNoLeak(t, append(f.rec.secrets(), chaosPassword), r)
		})
	}
}

// TestChaosKillAndResume kills wcdl with SIGKILL at seeded random moments of
// a bandwidth-capped batch and reruns it each time: the last run must
// finish the batch with every file intact, having fetched at most 30% more
// than the batch in total.
func TestChaosKillAndResume(t *testing.T) {
	chaosBinary(t) // skips under -short, builds once
	const (
		files = 48
		size  = 1 << 20
		kills = 6
		batch = files * size
	)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	f := newChaosFakes(t, nil,
		terrascopetest.WithFileSize(size),
		terrascopetest.WithBandwidth(16<<20),
	)
	dir := t.TempDir()
	names := chaosNames(files, 0)
	m := writeChaosManifest(t, dir, "tiles.txt", names)
	rep := filepath.Join(dir, "report.json")
	args := f.args(append(chaosCommon(dir, m, 4), "--report", rep)...)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var runs []*chaosRun
	for k := range kills {
		// Kill once the server has sent 4–11% of the batch more.
		threshold := f.ts.Stats().BytesServed + int64(float64(batch)*(0.04+0.07*rng.Float64()))
		r := startChaos(t, fmt.Sprintf("run %d (killed)", k+1), chaosPassword, args...)
		runs = append(runs, r)
		exited := make(chan struct{})
		go func() { r.cmd.Wait(); close(exited) }()
		waitStats(ctx, f.ts, exited, func(s terrascopetest.Stats) bool { return s.BytesServed >= threshold })
		select {
		case <-exited:
			t.Fatalf("run %d exited (%v) before it could be killed\nstderr tail:\n%s", k+1, r.cmd.ProcessState, tailLines(r.stderr.String(), 40))
		default:
		}
		if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("run %d: kill: %v", k+1, err)
		}
		<-exited
		if ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("run %d: got %v, want death by SIGKILL", k+1, r.cmd.ProcessState)
		}
		t.Logf("run %d killed after %d bytes served in total", k+1, f.ts.Stats().BytesServed)
	}
	last := startChaos(t, "final run", chaosPassword, args...)
	last.report = rep
	last.wait(t)
	runs = append(runs, last)
	last.wantExit(t, 0)

	kst, tst := f.kc.Stats(), f.ts.Stats()
	t.Logf("%d runs; final run %v; bytes served %d (%.3f x batch of %d); requests %d, range requests %d; password grants %d, logouts %d",
		len(runs), last.elapsed.Round(time.Millisecond), tst.BytesServed, float64(tst.BytesServed)/batch, int64(batch),
		tst.Requests, tst.RangeRequests, kst.PasswordGrants, kst.Logouts)

	sidecars := assertFiles(t, f.ts, filepath.Join(dir, "out"), names)
	if limit := int64(batch * 13 / 10); tst.BytesServed > limit {
		t.Errorf("bytes served: got %d, want <= %d (1.3 x batch): resumes refetch too much", tst.BytesServed, limit)
	}
	if tst.RangeRequests == 0 {
		t.Errorf("range requests: got 0, want some: no run resumed a partial file")
	}
	if kst.PasswordGrants != int64(len(runs)) || kst.FailedRefreshGrants != 0 || kst.FailedPasswordGrants != 0 {
		t.Errorf("grants: got %d password, %d failed refresh, %d failed password; want %d (one per run), 0, 0",
			kst.PasswordGrants, kst.FailedRefreshGrants, kst.FailedPasswordGrants, len(runs))
	}
	got := readReport(t, rep)
	if got.ExitCode != 0 || got.Summary.Failed != 0 || got.Summary.Downloaded+got.Summary.Skipped != files {
		t.Errorf("final report: got exit %d, %d downloaded + %d skipped, %d failed; want 0, %d in all, 0 failed",
			got.ExitCode, got.Summary.Downloaded, got.Summary.Skipped, got.Summary.Failed, files)
	}
	assertNoLeak(t, append(f.rec.secrets(), chaosPassword), runs...)

	// A SIGKILL between creating a sidecar (a lock, resume metadata or its
	// temporary file) and removing it must not leave it behind for good: a
	// rerun finds the final file complete and never looks at it again.
	assertNoSidecars(t, sidecars)
}

// TestChaosBadCredentials runs with a wrong password: wcdl must try the
// login exactly once, exit 3 and write nothing.
func TestChaosBadCredentials(t *testing.T) {
	chaosBinary(t) // skips under -short, builds once
	f := newChaosFakes(t, nil, terrascopetest.WithFileSize(256<<10))
	dir := t.TempDir()
	m := writeChaosManifest(t, dir, "tiles.txt", chaosNames(40, 0))
	rep := filepath.Join(dir, "report.json")
	const wrong = "not-the-password-Jx93!"
	r := runChaos(t, "wcdl", wrong, f.args(append(chaosCommon(dir, m, 8), "-v", "--report", rep)...)...)
	r.report = rep
	r.wantExit(t, 3)

	kst, tst := f.kc.Stats(), f.ts.Stats()
	t.Logf("elapsed %v; token requests %d; download requests %d", r.elapsed.Round(time.Millisecond), kst.TokenRequests(), tst.Requests)
	if kst.FailedPasswordGrants != 1 || kst.PasswordGrants != 0 || kst.TokenRequests() != 1 {
		t.Errorf("login attempts: got %d failed, %d successful, %d token requests; want exactly one failed password grant",
			kst.FailedPasswordGrants, kst.PasswordGrants, kst.TokenRequests())
	}
	if tst.AuthorizationSeen != 0 {
		t.Errorf("download requests with a token: got %d, want 0", tst.AuthorizationSeen)
	}
	ents, err := os.ReadDir(filepath.Join(dir, "out"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("output folder: got %s, want nothing", e.Name())
	}
	assertNoLeak(t, []string{chaosPassword, wrong}, r)
}

// TestChaosRedirectNoLeak lets the service redirect every download to a
// second host: the files must arrive, and the second host must never see an
// Authorization header.
func TestChaosRedirectNoLeak(t *testing.T) {
	chaosBinary(t) // skips under -short, builds once
	const (
		files = 40
		size  = 256 << 10
	)
	other := terrascopetest.NewServer(nil, terrascopetest.WithFileSize(size))
	t.Cleanup(other.Close)
	f := newChaosFakes(t, nil, terrascopetest.WithFileSize(size), terrascopetest.WithRedirectTo(other.URL()))
	dir := t.TempDir()
	names := chaosNames(files, 0)
	m := writeChaosManifest(t, dir, "tiles.txt", names)
	rep := filepath.Join(dir, "report.json")
	r := runChaos(t, "wcdl", chaosPassword, f.args(append(chaosCommon(dir, m, 8), "--report", rep)...)...)
	r.report = rep
	r.wantExit(t, 0)

	st, ost := f.ts.Stats(), other.Stats()
	t.Logf("elapsed %v; first host: %d requests, %d with a token; second host: %d requests, %d with a token, %d bytes",
		r.elapsed.Round(time.Millisecond), st.Requests, st.AuthorizationSeen, ost.Requests, ost.AuthorizationSeen, ost.BytesServed)
	assertNoSidecars(t, assertFiles(t, other, filepath.Join(dir, "out"), names))
	if ost.AuthorizationSeen != 0 {
		t.Errorf("second host: got %d requests with an Authorization header, want 0", ost.AuthorizationSeen)
	}
	if st.AuthorizationSeen == 0 || ost.Requests < files {
		t.Errorf("got %d authorized requests at the first host and %d requests at the second; want some and >= %d: the redirect was not exercised",
			st.AuthorizationSeen, ost.Requests, files)
	}
	assertNoLeak(t, append(f.rec.secrets(), chaosPassword), r)
}

// TestChaosConcurrentRuns runs two processes on one output folder with
// overlapping manifests: both succeed, each shared file is fetched by one of
// them only, and nothing is left behind.
func TestChaosConcurrentRuns(t *testing.T) {
	chaosBinary(t) // skips under -short, builds once
	const (
		size = 256 << 10
	)
	f := newChaosFakes(t, nil, terrascopetest.WithFileSize(size), terrascopetest.WithBandwidth(8<<20))
	dir := t.TempDir()
	a, b := chaosNames(30, 0), chaosNames(30, 10) // 20 shared
	ma := writeChaosManifest(t, dir, "a.txt", a)
	mb := writeChaosManifest(t, dir, "b.txt", b)
	repA, repB := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	ra := startChaos(t, "run A", chaosPassword, f.args(append(chaosCommon(dir, ma, 4), "--report", repA)...)...)
	rb := startChaos(t, "run B", chaosPassword, f.args(append(chaosCommon(dir, mb, 4), "--report", repB)...)...)
	ra.report, rb.report = repA, repB
	ra.wait(t)
	rb.wait(t)
	ra.wantExit(t, 0)
	rb.wantExit(t, 0)

	union := chaosNames(40, 0)
	tst := f.ts.Stats()
	t.Logf("run A %v, run B %v; bytes served %d (union %d); requests %d", ra.elapsed.Round(time.Millisecond), rb.elapsed.Round(time.Millisecond),
		tst.BytesServed, len(union)*size, tst.Requests)
	assertNoSidecars(t, assertFiles(t, f.ts, filepath.Join(dir, "out"), union))

	status := map[string][]string{}
	for _, rep := range []string{repA, repB} {
		for _, e := range readReport(t, rep).Entries {
			status[e.Entry] = append(status[e.Entry], e.Status)
		}
	}
	for _, n := range chaosNames(20, 10) {
		if got := status[n]; len(got) != 2 || (got[0] == "downloaded") == (got[1] == "downloaded") {
			t.Errorf("shared %s: got statuses %v, want downloaded by one run and skipped by the other", n, got)
		}
	}
	if want := int64(len(union) * size); tst.BytesServed != want {
		t.Errorf("bytes served: got %d, want %d (each file once)", tst.BytesServed, want)
	}
	assertNoLeak(t, append(f.rec.secrets(), chaosPassword), ra, rb)
}

// TestChaosSignals sends SIGINT or SIGTERM to a run mid-batch: it must exit
// 130 with its partial files kept, its report written and its Keycloak
// session ended, and a rerun must finish the batch.
func TestChaosSignals(t *testing.T) {
	chaosBinary(t) // skips under -short, builds once
	const (
		files = 16
		size  = 1 << 20
	)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			f := newChaosFakes(t, nil, terrascopetest.WithFileSize(size), terrascopetest.WithBandwidth(8<<20))
			dir := t.TempDir()
			names := chaosNames(files, 0)
			m := writeChaosManifest(t, dir, "tiles.txt", names)
			rep := filepath.Join(dir, "report.json")
			args := f.args(append(chaosCommon(dir, m, 4), "--report", rep)...)

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			r := startChaos(t, "interrupted run", chaosPassword, args...)
			r.report = rep
			exited := make(chan struct{})
			go func() { r.wait(t); close(exited) }()
			// A quarter of the batch and a file more have been sent:
			// files are in flight. (A quarter alone is where the four
			// workers' first files end together when they progress
			// evenly, with nothing in flight at the signal.)
			waitStats(ctx, f.ts, exited, func(s terrascopetest.Stats) bool { return s.BytesServed >= files*size/4+size })
			if err := r.cmd.Process.Signal(sig); err != nil {
				t.Fatalf("signal: %v", err)
			}
			<-exited
			r.wantExit(t, exitInterrupted)

			got := readReport(t, rep)
			if got.ExitCode != exitInterrupted || got.Summary.Downloaded == files {
				t.Errorf("report: exit %d, %d downloaded; want 130 with the batch unfinished", got.ExitCode, got.Summary.Downloaded)
			}
			parts, _ := filepath.Glob(filepath.Join(dir, "out", "*.part"))
			if len(parts) == 0 {
				t.Errorf("no .part file was kept for the next run")
			}
			if st := f.kc.Stats(); st.PasswordGrants != 1 || st.Logouts != 1 || st.LiveSessions != 0 {
				t.Errorf("keycloak: %d logins, %d logouts, %d live sessions; want the one session ended", st.PasswordGrants, st.Logouts, st.LiveSessions)
			}

			last := runChaos(t, "rerun", chaosPassword, args...)
			last.report = rep
			last.wantExit(t, 0)
			assertNoSidecars(t, assertFiles(t, f.ts, filepath.Join(dir, "out"), names))
			if served, limit := f.ts.Stats().BytesServed, int64(files*size*13/10); served > limit {
				t.Errorf("bytes served %d for a %d-byte batch, want at most %d: the rerun did not resume", served, files*size, limit)
			}
			assertNoLeak(t, append(f.rec.secrets(), chaosPassword), r, last)
		})
	}
}
