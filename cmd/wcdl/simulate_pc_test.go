package main

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRunSimulatePC: --simulate --source pc downloads the quick start from
// the simulated Planetary Computer container with SAS tokens from its
// token endpoint: one token for the whole batch, every file checked by its
// Content-MD5, and no token anywhere in what wcdl writes.
func TestRunSimulatePC(t *testing.T) {
	dir := t.TempDir()
	rep := filepath.Join(dir, "report.json")
	var sim *simulator
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	c := &command{getenv: noEnv, stdin: strings.NewReader(""), stdout: stdout, stderr: stderr,
		simPort: freePort(t), simulated: func(s *simulator) { sim = s }}
	args := []string{"--simulate", "--simulate-rate", "0", "--source", "pc", "-m", "../../testdata/tiles.txt", "-o", filepath.Join(dir, "out"),
		"--report", rep, "--progress", "none", "-v"}
	if code := c.run(t.Context(), args); code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr.String())
	}
	r := readReport(t, rep)
	if r.Summary.Downloaded != 6 {
		t.Errorf("downloaded %d, want the 6 files of testdata/tiles.txt", r.Summary.Downloaded)
	}
	for _, e := range r.Entries {
		if e.From != "pc" || !slices.Equal(e.Checked, []string{"size", "content-md5", "tiff"}) {
			t.Errorf("%s: from %q, checked %v; want pc, [size content-md5 tiff]", e.Entry, e.From, e.Checked)
		}
	}
	// The run lasts well under the tokens' 20 s, so one token serves it.
	if n := sim.pc.Requests(); n != 1 || r.Summary.TokenRequests != 1 {
		t.Errorf("SAS token requests: %d (report: %d), want 1", n, r.Summary.TokenRequests)
	}
	if n := sim.kc.Stats().TokenRequests(); n != 0 {
		t.Errorf("Keycloak token requests: %d, want 0", n)
	}
	if st := sim.blob.Stats(); st.Refused != 0 || st.Requests != 6 {
		t.Errorf("blob container: %d requests, %d refused; want 6 and 0", st.Requests, st.Refused)
	}
	report, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	issued := sim.pc.Issued()
	if len(issued) == 0 {
		t.Fatal("the token endpoint issued no token")
	}
	for _, tok := range issued {
		q, err := url.ParseQuery(tok)
		if err != nil {
			t.Fatal(err)
		}
		sig := q.Get("sig")
		for name, text := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String(), "report": string(report)} {
			if strings.Contains(text, sig) || strings.Contains(text, url.QueryEscape(sig)) || strings.Contains(text, "sig=") {
				t.Errorf("%s shows the SAS token:\n%s", name, text)
			}
		}
	}
}

// TestRunSimulatePCFallback: with the Planetary Computer and ESA's bucket
// both listed, a dead first source hands every file to the second, and
// only the Planetary Computer asks for SAS tokens.
func TestRunSimulatePCFallback(t *testing.T) {
	tests := []struct {
		sources    string
		down       string // the source whose service is stopped
		wantFrom   string
		wantTokens int64
	}{
		{"pc,aws", "", "pc", 1},
		{"pc,aws", "pc", "aws", 1}, // the token comes before the container is found dead
		{"aws,pc", "", "aws", 0},
		{"aws,pc", "aws", "pc", 1},
	}
	for _, tt := range tests {
		t.Run(tt.sources+" "+tt.down+" down", func(t *testing.T) {
			dir := t.TempDir()
			rep := filepath.Join(dir, "report.json")
			var sim *simulator
			stderr := &syncBuffer{}
			c := &command{getenv: noEnv, stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: stderr, simPort: freePort(t),
				simulated: func(s *simulator) {
					sim = s
					switch tt.down {
					case "pc":
						s.blob.Close()
					case "aws":
						s.s3.Close()
					}
				}}
			args := []string{"--simulate", "--simulate-rate", "0", "--source", tt.sources, "-m", "../../testdata/tiles.txt",
				"-o", filepath.Join(dir, "out"), "--report", rep, "--progress", "none", "--retries", "2"}
			if code := c.run(t.Context(), args); code != exitOK {
				t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr.String())
			}
			r := readReport(t, rep)
			if r.Summary.Downloaded != 6 {
				t.Errorf("downloaded %d, want 6", r.Summary.Downloaded)
			}
			for _, e := range r.Entries {
				if e.From != tt.wantFrom {
					t.Errorf("%s: from %q, want %s", e.Entry, e.From, tt.wantFrom)
				}
			}
			if n := sim.pc.Requests(); n != tt.wantTokens || r.Summary.TokenRequests != tt.wantTokens {
				t.Errorf("SAS token requests: %d (report: %d), want %d", n, r.Summary.TokenRequests, tt.wantTokens)
			}
			if n := sim.kc.Stats().TokenRequests(); n != 0 {
				t.Errorf("Keycloak token requests: %d, want 0", n)
			}
			if n := sim.s3.Stats().QuerySeen; n != 0 {
				t.Errorf("the bucket got %d requests with a query (a SAS token?), want 0", n)
			}
		})
	}
}
