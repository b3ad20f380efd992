package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcdl/wcdl/auth/pctest"
)

// blobService is a fake Azure Blob container on loopback that accepts the
// SAS tokens its token endpoint issued and has not revoked, answering
// others as Azure does: 403 AuthenticationFailed.
type blobService struct {
	*httptest.Server
	pc *pctest.Server

	mu      sync.Mutex
	revoked map[string]bool
	signed  []string // tokens given in manifest URLs, also valid
	queries []string
	onGet   func(n int)
}

func newBlobService(t *testing.T, pc *pctest.Server) *blobService {
	b := &blobService{pc: pc, revoked: map[string]bool{}}
	b.Server = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.Close)
	return b
}

// revokeAll makes every token issued so far invalid.
func (b *blobService) revokeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, tok := range b.pc.Issued() {
		b.revoked[tok] = true
	}
}

func (b *blobService) serve(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.queries = append(b.queries, r.URL.RawQuery)
	n, hook := len(b.queries), b.onGet
	b.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	b.mu.Lock()
	valid := !b.revoked[r.URL.RawQuery] && (contains(b.pc.Issued(), r.URL.RawQuery) || contains(b.signed, r.URL.RawQuery))
	b.mu.Unlock()
	if !valid {
		w.Header().Set("x-ms-error-code", "AuthenticationFailed")
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.</Message></Error>`)
		return
	}
	name := filepath.Base(r.URL.Path)
	switch {
	case strings.HasPrefix(name, "missing"):
		w.Header().Set("x-ms-error-code", "BlobNotFound")
		http.Error(w, "<Error><Code>BlobNotFound</Code></Error>", http.StatusNotFound)
	case strings.HasPrefix(name, "disabled"):
		w.Header().Set("x-ms-error-code", "AccountIsDisabled")
		http.Error(w, "<Error><Code>AccountIsDisabled</Code></Error>", http.StatusForbidden)
	default:
		w.Header().Set("Content-Length", fmt.Sprint(len(name)))
		fmt.Fprint(w, name)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestSASRun downloads from a blob container with SAS tokens from the fake
// Planetary Computer endpoint: one token for the container, renewed once
// when the service stops accepting it, sent with the subscription key, and
// never shown in the output, the log or the report, even for files that
// fail.
func TestSASRun(t *testing.T) {
	const key = "pc-subscription-key-77e1"
	pc := pctest.NewServer(pctest.Options{SubscriptionKey: key})
	defer pc.Close()
	blobs := newBlobService(t, pc)
	blobs.onGet = func(n int) {
		if n == 3 {
			blobs.revokeAll()
		}
	}
	root := blobs.URL + "/" + pctest.DevAccount + "/esa-worldcover/v200"
	var lines []string
	for i := range 6 {
		lines = append(lines, fmt.Sprintf("%s/tile%d.txt", root, i))
	}
	lines = append(lines, root+"/missing.txt", root+"/disabled.txt")
	m := writeManifest(t, lines...)
	out := filepath.Join(t.TempDir(), "out")
	rep := filepath.Join(t.TempDir(), "report.json")
	res := runWCDL(t, t.Context(), map[string]string{"WCDL_PC_SUBSCRIPTION_KEY": key}, "", nil,
		"--provider", "pc", "--token-url", pc.URL, "--base-url", root, "-w", "2", "--retries", "1",
		"-m", m, "-o", out, "--report", rep, "-v")
	if res.code != exitFailed {
		t.Fatalf("exit %d, want %d (the disabled blob fails); stderr:\n%s", res.code, exitFailed, res.stderr)
	}
	r := readReport(t, rep)
	for i := range 6 {
		name := fmt.Sprintf("tile%d.txt", i)
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(b) != name {
			t.Errorf("%s: got %q, %v", name, b, err)
		}
	}
	if got := pc.Requests(); got != 2 || r.Summary.TokenRequests != 2 {
		t.Errorf("token requests: endpoint got %d, report says %d; want 2 (one, and one renewal)", got, r.Summary.TokenRequests)
	}
	for _, k := range pc.SubscriptionKeys() {
		if k != key {
			t.Errorf("a token request came with subscription key %q", k)
		}
	}
	report, _ := os.ReadFile(rep)
	secrets := []string{key}
	for _, tok := range pc.Issued() {
		q, _ := url.ParseQuery(tok)
		secrets = append(secrets, tok, q.Get("sig"), url.QueryEscape(q.Get("sig")))
	}
	for name, o := range map[string]string{"stdout": res.stdout, "stderr": res.stderr, "report": string(report)} {
		for _, s := range secrets {
			if strings.Contains(o, s) {
				t.Errorf("%s holds a secret (%d characters)", name, len(s))
			}
		}
		if strings.Contains(o, "sig=") {
			t.Errorf("%s holds a signature parameter", name)
		}
	}
	if !strings.Contains(res.stderr, "disabled.txt") {
		t.Errorf("stderr does not name the failed blob:\n%s", res.stderr)
	}
}

// TestPresignedURLsNeverShown: blob URLs signed before they reach wcdl (as
// planetary_computer.sign writes them) are fetched as they are, without a
// token request, and their signature appears nowhere: not in the log, the
// failure lines, the report or --dry-run.
func TestPresignedURLsNeverShown(t *testing.T) {
	pc := pctest.NewServer(pctest.Options{})
	defer pc.Close()
	blobs := newBlobService(t, pc)
	tok, err := pctest.ContainerSAS(pctest.DevAccount, pctest.DevKey, "esa-worldcover", "rl", time.Time{}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	blobs.signed = []string{tok}
	root := blobs.URL + "/" + pctest.DevAccount + "/esa-worldcover"
	m := writeManifest(t, root+"/a.txt?"+tok, root+"/missing.txt?"+tok, root+"/disabled.txt?"+tok)
	out := filepath.Join(t.TempDir(), "out")
	rep := filepath.Join(t.TempDir(), "report.json")
	args := []string{"--provider", "pc", "--token-url", pc.URL, "--base-url", root, "--retries", "1", "-m", m, "-o", out, "--report", rep, "-v"}
	res := runWCDL(t, t.Context(), nil, "", nil, args...)
	dry := runWCDL(t, t.Context(), nil, "", nil, append(args, "--dry-run")...)
	if res.code != exitFailed || dry.code != exitOK {
		t.Fatalf("exit %d and %d (dry run), want %d and 0; stderr:\n%s%s", res.code, dry.code, exitFailed, res.stderr, dry.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(out, "a.txt")); err != nil || string(b) != "a.txt" {
		t.Errorf("a.txt: got %q, %v", b, err)
	}
	if n := pc.Requests(); n != 0 {
		t.Errorf("token requests: got %d, want none for signed URLs", n)
	}
	q, _ := url.ParseQuery(tok)
	report, _ := os.ReadFile(rep)
	for name, o := range map[string]string{"stdout": res.stdout, "stderr": res.stderr, "report": string(report), "dry run": dry.stdout + dry.stderr} {
		for _, s := range []string{q.Get("sig"), url.QueryEscape(q.Get("sig")), "sig="} {
			if strings.Contains(o, s) {
				t.Errorf("%s holds the signature (%d characters)", name, len(s))
			}
		}
	}
	if !strings.Contains(res.stderr, "disabled.txt") || !strings.Contains(res.stderr, "missing.txt") {
		t.Errorf("stderr does not name the failed blobs:\n%s", res.stderr)
	}
}

// TestSASRefusedContainer: a container the token endpoint refuses fails
// only its own files, after one token request, and its refusal is told
// once; the files of the other container are downloaded and the batch is
// not stopped as for a failed login.
func TestSASRefusedContainer(t *testing.T) {
	pc := pctest.NewServer(pctest.Options{Containers: []string{"esa-worldcover"}})
	defer pc.Close()
	blobs := newBlobService(t, pc)
	var lines []string
	for i := range 3 {
		lines = append(lines, fmt.Sprintf("%s/%s/refused/v200/r%d.txt", blobs.URL, pctest.DevAccount, i))
	}
	good := blobs.URL + "/" + pctest.DevAccount + "/esa-worldcover/v200"
	for i := range 3 {
		lines = append(lines, fmt.Sprintf("%s/tile%d.txt", good, i))
	}
	m := writeManifest(t, lines...)
	out := filepath.Join(t.TempDir(), "out")
	res := runWCDL(t, t.Context(), nil, "", nil,
		"--provider", "pc", "--token-url", pc.URL, "--base-url", good, "-w", "1", "--retries", "2",
		"-m", m, "-o", out, "--progress", "plain")
	if res.code != exitFailed {
		t.Fatalf("exit %d, want %d (the refused container's files fail, the others do not); stderr:\n%s", res.code, exitFailed, res.stderr)
	}
	for i := range 3 {
		name := fmt.Sprintf("tile%d.txt", i)
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(b) != name {
			t.Errorf("%s: got %q, %v", name, b, err)
		}
	}
	if got := pc.Requests(); got != 2 {
		t.Errorf("token requests: got %d, want 2 (one per container)", got)
	}
	all := res.stdout + res.stderr
	if got := strings.Count(all, "unknown storage account or container"); got != 1 {
		t.Errorf("the endpoint's refusal is told %d times, want once:\n%s", got, all)
	}
	if got := strings.Count(all, "no SAS token for "+pctest.DevAccount+"/refused"); got != 3 {
		t.Errorf("the refused container is named %d times, want once per file (3):\n%s", got, all)
	}
}
