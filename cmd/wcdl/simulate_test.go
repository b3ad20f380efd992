package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// freePort returns a loopback port that nothing listened on a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestRunSimulateResumes interrupts a --simulate run while four files are
// under way: the next --simulate run finds the simulator at the same
// address and resumes the parts instead of downloading everything again.
// Its first line is a sentence, not a log record.
func TestRunSimulateResumes(t *testing.T) {
	const held = 256 << 10
	port := freePort(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "tiles")
	rep := filepath.Join(dir, "report.json")
	args := []string{"--simulate", "--simulate-rate", "0", "-m", "../../testdata/tiles.txt", "-o", out, "--report", rep, "-w", "4"}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sims := make(chan *simulator, 1)
	first := &command{
		getenv: func(string) string { return "" }, stdin: strings.NewReader(""),
		stdout: &syncBuffer{}, stderr: &syncBuffer{}, simPort: port,
		simulated: func(s *simulator) { s.ts.Hold(held); sims <- s },
	}
	go func() {
		var sim *simulator
		select {
		case sim = <-sims:
		case <-ctx.Done():
			return
		}
		if waitStats(ctx, sim.ts, nil, func(s terrascopetest.Stats) bool { return s.Held == 4 }) &&
			waitParts(ctx, nil, out, 4, held) {
			cancel()
		}
	}()
	if code := first.run(ctx, args); code != exitInterrupted {
		t.Fatalf("first run: exit code %d, want %d; stderr:\n%s", code, exitInterrupted, first.stderr.(*syncBuffer).String())
	}
	stderr := first.stderr.(*syncBuffer).String()
	if l, _, _ := strings.Cut(stderr, "\n"); !strings.HasPrefix(l, "wcdl: simulating: ") || strings.Contains(l, "level=") {
		t.Errorf("first line: %q, want a sentence starting \"wcdl: simulating: \"", l)
	}
	firstURL := readReport(t, rep).Entries[0].URL

	var sim *simulator
	second := &command{
		getenv: func(string) string { return "" }, stdin: strings.NewReader(""),
		stdout: &syncBuffer{}, stderr: &syncBuffer{}, simPort: port,
		simulated: func(s *simulator) { sim = s },
	}
	if code := second.run(t.Context(), args); code != exitOK {
		t.Fatalf("second run: exit code %d, want 0; stderr:\n%s", code, second.stderr.(*syncBuffer).String())
	}
	r := readReport(t, rep)
	if r.Entries[0].URL != firstURL {
		t.Fatalf("the second simulation is at %s, the first was at %s: parts cannot resume", r.Entries[0].URL, firstURL)
	}
	assertComplete(t, sim.ts, out, r)
	st := sim.ts.Stats()
	if st.RangeRequests != 4 {
		t.Errorf("range requests: got %d, want 4 (one per part)", st.RangeRequests)
	}
	var batch int64
	for _, e := range r.Entries {
		batch += e.Size
	}
	if want := batch - 4*held; st.BytesServed != want {
		t.Errorf("the second run was sent %d bytes, want %d (the batch less the four parts)", st.BytesServed, want)
	}
}

// TestRunSimulatePortTaken: with its port taken, the simulator runs on
// another one and says that parts will not resume.
func TestRunSimulatePortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := &command{
		getenv: func(string) string { return "" }, stdin: strings.NewReader(""),
		stdout: &syncBuffer{}, stderr: &syncBuffer{}, simPort: l.Addr().(*net.TCPAddr).Port,
	}
	if code := c.run(t.Context(), []string{"--simulate", "--simulate-rate", "0", "-m", "../../testdata/tiles.txt", "-o", t.TempDir()}); code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, c.stderr.(*syncBuffer).String())
	}
	if stderr := c.stderr.(*syncBuffer).String(); !strings.Contains(stderr, "is taken (another simulation?)") {
		t.Errorf("stderr does not say the port is taken:\n%s", stderr)
	}
}

// TestSimulateRate: the simulator serves each connection at a rate a
// person can watch unless told otherwise, and --simulate-rate 0 (what the
// tests and benchmarks use) at full speed.
func TestSimulateRate(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int64
	}{
		{"default", nil, 1 << 20},
		{"full speed", []string{"--simulate-rate", "0"}, 0},
		{"binary units", []string{"--simulate-rate", "8MiB"}, 8 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got int64 = -1
			var sim *simulator
			c := &command{
				getenv: func(string) string { return "" }, stdin: strings.NewReader(""),
				stdout: &syncBuffer{}, stderr: &syncBuffer{}, simPort: freePort(t),
				simulated: func(s *simulator) { got, sim = s.connRate, s },
			}
			args := append([]string{"--simulate", "--dry-run", "-m", "../../testdata/tiles.txt"}, tt.args...)
			if code := c.run(t.Context(), args); code != exitOK {
				t.Fatalf("exit code %d, want 0; stderr:\n%s", code, c.stderr.(*syncBuffer).String())
			}
			if got != tt.want {
				t.Errorf("the simulator serves a connection at %d bytes/s, want %d", got, tt.want)
			}
			if b, c := sim.s3.ConnRate(), sim.blob.ConnRate(); b != tt.want || c != tt.want {
				t.Errorf("the bucket serves a connection at %d bytes/s, the blob container at %d; want %d", b, c, tt.want)
			}
		})
	}
}

// TestSimulateInputsFirst: with --simulate, bad input is told before the
// simulator is announced (and then nothing is), and --dry-run prints the
// simulator's URLs, which a following run would fetch, not the real
// service's.
func TestSimulateInputsFirst(t *testing.T) {
	t.Run("bad input", func(t *testing.T) {
		c := &command{
			getenv: func(string) string { return "" }, stdin: strings.NewReader(""),
			stdout: &syncBuffer{}, stderr: &syncBuffer{}, simPort: freePort(t),
		}
		code := c.run(t.Context(), []string{"--simulate", "-m", writeManifest(t, "N01E006"), "-o", t.TempDir()})
		stderr := c.stderr.(*syncBuffer).String()
		if code != exitUsage {
			t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr)
		}
		if first, _, _ := strings.Cut(stderr, "\n"); !strings.HasPrefix(first, "wcdl: nothing was downloaded, the input has errors") || strings.Contains(stderr, "simulating") {
			t.Errorf("stderr:\n%s\nwant the input's error first, and no word of the simulator", stderr)
		}
	})
	t.Run("dry run", func(t *testing.T) {
		var base string
		c := &command{
			getenv: func(string) string { return "" }, stdin: strings.NewReader(""),
			stdout: &syncBuffer{}, stderr: &syncBuffer{}, simPort: freePort(t),
			simulated: func(s *simulator) { base = s.ts.URL() },
		}
		if code := c.run(t.Context(), []string{"--simulate", "--dry-run", "-m", "../../testdata/tiles.txt"}); code != exitOK {
			t.Fatalf("exit code %d, want 0; stderr:\n%s", code, c.stderr.(*syncBuffer).String())
		}
		lines := strings.Split(strings.TrimSpace(c.stdout.(*syncBuffer).String()), "\n")
		if len(lines) != 6 {
			t.Fatalf("dry run printed %d lines, want 6:\n%s", len(lines), strings.Join(lines, "\n"))
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, base+"/") {
				t.Errorf("dry run line %q, want a URL of the simulator %s", l, base)
			}
		}
	})
}

// TestSimulateBanner: the first line of a simulated run says where the
// files go; with an output bucket they leave this machine, and it must
// not say otherwise.
func TestSimulateBanner(t *testing.T) {
	for _, tt := range []struct {
		name, out string
		want      []string
		wantNot   string
	}{
		{name: "folder", out: "tiles", want: []string{"nothing leaves it"}},
		{name: "bucket", out: "s3://tiles/wc", want: []string{"uploaded to s3://tiles/wc", "not simulated"}, wantNot: "nothing leaves"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &command{
				getenv: func(string) string { return "" }, stdin: strings.NewReader(""),
				stdout: &syncBuffer{}, stderr: &syncBuffer{}, simPort: freePort(t),
			}
			if code := c.run(t.Context(), []string{"--simulate", "--dry-run", "-m", "../../testdata/tiles.txt", "-o", tt.out}); code != exitOK {
				t.Fatalf("exit code %d, want 0; stderr:\n%s", code, c.stderr.(*syncBuffer).String())
			}
			first, _, _ := strings.Cut(c.stderr.(*syncBuffer).String(), "\n")
			for _, w := range tt.want {
				if !strings.Contains(first, w) {
					t.Errorf("first line %q does not say %q", first, w)
				}
			}
			if tt.wantNot != "" && strings.Contains(first, tt.wantNot) {
				t.Errorf("first line %q says %q", first, tt.wantNot)
			}
		})
	}
}

// TestSimulateReadyCredentialAdvice: --simulate with a ready-made
// credential names the one given as what to drop, not settings the user
// never made (the default --provider terrascope among them).
func TestSimulateReadyCredentialAdvice(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"--token-file", nil, []string{"--token-file", tokenFile}, "drop --token-file\n"},
		{"WCDL_TOKEN", map[string]string{"WCDL_TOKEN": "tok"}, nil, "drop WCDL_TOKEN\n"},
		{"API key", map[string]string{"WCDL_API_KEY": "k"}, []string{"--api-key-header", "X-Key"}, "drop --api-key-header, WCDL_API_KEY\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stderr := &syncBuffer{}
			c := &command{getenv: func(k string) string { return tt.env[k] }, stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: stderr,
				simPort: freePort(t)}
			args := append(tt.args, "--simulate", "-m", "../../testdata/tiles.txt", "-o", filepath.Join(t.TempDir(), "out"), "--progress", "none")
			if code := c.run(t.Context(), args); code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit code %d, stderr:\n%s\nwant exit code %d and %q", code, stderr.String(), exitUsage, tt.want)
			}
		})
	}
}
