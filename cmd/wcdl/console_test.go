package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// TestRunJSONStream: with --log-format json every line on stderr is one
// JSON object with a level and a message, whatever happens: files done and
// failed, debug detail, a bad flag, a bad manifest, a failed login, an
// interrupt.
func TestRunJSONStream(t *testing.T) {
	gone := "S15W048"
	svc := newServices(t, terrascopetest.WithNotFound(func(name string) bool { return strings.Contains(name, gone) }))
	wrong := map[string]string{"WCDL_USERNAME": testUser, "WCDL_PASSWORD": "wrong-" + testPassword}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		env   map[string]string
		args  []string
		code  int
		msgs  []string // messages that must appear
		files int      // "file" records, or -1 for any number
	}{
		{name: "files done and failed, verbose", args: []string{"-v", "-m", writeManifest(t, "N00E006", "N00E009", gone)},
			code: exitFailed, msgs: []string{"summary"}, files: 3},
		{name: "box", args: []string{"--bbox", "0.5,0.5,4,1"},
			code: exitOK, msgs: []string{"summary"}, files: 2},
		{name: "unknown flag", args: []string{"--worker", "3"}, code: exitUsage},
		{name: "bad manifest", args: []string{"-m", writeManifest(t, "N00E006", "N01E006")}, code: exitUsage},
		{name: "failed login", env: wrong, args: []string{"-m", writeManifest(t, tiles(4)...)}, code: exitAuth, msgs: []string{"summary"}},
		{name: "interrupted before the start", ctx: cancelled, args: []string{"-m", writeManifest(t, tiles(4)...)}, code: exitInterrupted, msgs: []string{"summary"}},
		{name: "quiet", args: []string{"-q", "-m", writeManifest(t, "N00E006", gone)}, code: exitFailed, files: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, env := tt.ctx, tt.env
			if ctx == nil {
				ctx = t.Context()
			}
			if env == nil {
				env = creds()
			}
			args := append([]string{"--log-format", "json", "-o", filepath.Join(t.TempDir(), "out")}, tt.args...)
			res := runWCDL(t, ctx, env, "", nil, svc.args(args...)...)
			if res.code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, tt.code, res.stderr)
			}
			if res.stderr == "" {
				t.Fatalf("nothing on stderr")
			}
			seen := map[string]int{}
			for i, l := range strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(l), &rec); err != nil {
					t.Errorf("stderr line %d is not a JSON object: %v\n%s", i+1, err, l)
					continue
				}
				msg, _ := rec["msg"].(string)
				if _, ok := rec["level"].(string); !ok || msg == "" {
					t.Errorf("stderr line %d has no level or msg: %s", i+1, l)
				}
				seen[msg]++
				if msg == "file" && tt.name != "quiet" {
					// Progress: the records count the entries told so far.
					if done, _ := rec["files_done"].(float64); int(done) != seen["file"] {
						t.Errorf("file record %d says files_done %v: %s", seen["file"], rec["files_done"], l)
					}
				}
			}
			for _, m := range tt.msgs {
				if seen[m] == 0 {
					t.Errorf("no %q record in:\n%s", m, res.stderr)
				}
			}
			if tt.files >= 0 && seen["file"] != tt.files {
				t.Errorf("%d file records, want %d:\n%s", seen["file"], tt.files, res.stderr)
			}
			assertNoSecrets(t, svc, res.stdout, res.stderr)
		})
	}
}

// TestSummaryLines: the text summary fits in 80 columns, lists only the
// statuses that occur and says "1 file", not "1 files".
func TestSummaryLines(t *testing.T) {
	tests := []struct {
		s    summary
		want []string
	}{
		{summary{Entries: 1, Downloaded: 1, Bytes: 1 << 20, ElapsedSeconds: 2, BytesPerSecond: 1 << 19, TokenRequests: 1},
			[]string{"wcdl: 1 file: 1 downloaded", "wcdl: 1.0 MiB in 2s (512.0 KiB/s), 1 token request"}},
		{summary{Entries: 0},
			[]string{"wcdl: 0 files", "wcdl: 0 B in 0s (0 B/s), 0 token requests"}},
		{summary{Entries: 16, Interrupted: 4, NotStarted: 12, TokenRequests: 2},
			[]string{"wcdl: 16 files: 4 interrupted, 12 not started", "wcdl: 0 B in 0s (0 B/s), 2 token requests"}},
		{summary{Entries: 6000006, Downloaded: 1000001, Skipped: 1000001, Missing: 1000001, Failed: 1000001, Interrupted: 1000001, NotStarted: 1000001,
			Bytes: 5 << 40, ElapsedSeconds: 86399.999, BytesPerSecond: 1 << 30, TokenRequests: 123456},
			[]string{"wcdl: 6000006 files: 1000001 downloaded, 1000001 skipped, 1000001 missing,",
				"      1000001 failed, 1000001 interrupted, 1000001 not started",
				"wcdl: 5.0 TiB in 23h59m59.999s (1.0 GiB/s), 123456 token requests"}},
	}
	for _, tt := range tests {
		got := tt.s.lines()
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("lines of %+v:\n%s\nwant\n%s", tt.s, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
		for _, l := range got {
			if len(l) > summaryWidth {
				t.Errorf("summary line of %d columns, want at most %d: %q", len(l), summaryWidth, l)
			}
		}
	}
}

// TestInterruptLine: the line after an interrupt counts the partial files
// kept in good English.
func TestInterruptLine(t *testing.T) {
	for kept, want := range map[int]string{
		0: "interrupted; the next run starts where this one stopped",
		1: "interrupted; 1 partial file kept, the next run resumes it",
		4: "interrupted; 4 partial files kept, the next run resumes them",
	} {
		if got := interruptLine(kept); got != want {
			t.Errorf("interruptLine(%d) = %q, want %q", kept, got, want)
		}
	}
}

// TestLogLines: with --log-format text, log records read like wcdl's other
// lines ("wcdl: ..."), the lock wait included, not as logfmt.
func TestLogLines(t *testing.T) {
	var buf syncBuffer
	c := &command{}
	log := c.newLogger(&options{verbose: true, logFormat: "text"}, &buf)
	log.Info("waiting: another wcdl process is downloading this file and holds its partial file", "file", "out/a b.tif.part")
	log.Warn("partial file kept without resume metadata", "url", "https://example.org/a.tif")
	log.With("grant", "password").Debug("token request", "status", 200)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{
		`^wcdl: waiting: another wcdl process is downloading this file and holds its partial file: file="out/a b.tif.part"$`,
		`^wcdl: warning: partial file kept without resume metadata: url=https://example.org/a.tif$`,
		`^wcdl: \d\d:\d\d:\d\d\.\d\d\d debug: token request: grant=password status=200$`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if !regexp.MustCompile(w).MatchString(lines[i]) {
			t.Errorf("line %d: %q, want it to match %s", i+1, lines[i], w)
		}
	}
}
