package downloader

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wcdl/wcdl/downloader/hostiletest"
	"github.com/wcdl/wcdl/manifest"
)

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a
// logger shared by workers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestURLSecretsNeverShown gives entries URLs with a signature in the query
// and a password in the user information, makes every kind of failure
// happen, and checks that neither appears in any log line (debug level,
// retryablehttp's own request logging included), error or side file.
func TestURLSecretsNeverShown(t *testing.T) {
	const secret = "S3CR3T"
	q := "?X-Amz-Signature=" + secret + "&token=" + secret
	withSecrets := func(u string) string {
		return strings.Replace(u, "http://", "http://user:"+secret+"@", 1) + q
	}
	data := content(2<<20, 12)

	s := newFakeService(t)
	failing := s.add("/503.bin", &fakeFile{data: data, reply: func(n int, w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return true
	}})
	cut := s.add("/cut.bin", &fakeFile{data: data, cutAfter: cutFirst(1, 600<<10)})
	redir := hostiletest.New(data, hostiletest.WithRedirect("ftp://elsewhere.invalid/x.bin"+q))
	t.Cleanup(redir.Close)
	redirHTTP := hostiletest.New(data, hostiletest.WithRedirect(cut+q)) // followed, then cut
	t.Cleanup(redirHTTP.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/refused.bin"
	l.Close()

	var logs lockedBuffer
	dir := t.TempDir()
	d := newTest(t, Config{Dir: dir, Attempts: 3, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnResult: func(r Result) {}})
	entries := []manifest.Entry{
		entry(withSecrets(failing), "503.bin"),
		entry(withSecrets(cut), "cut.bin"),
		entry(withSecrets(redir.URL+"/r.bin"), "r.bin"),
		entry(withSecrets(redirHTTP.URL+"/r2.bin"), "r2.bin"),
		entry(withSecrets(refused), "refused.bin"),
		entry("http://h/%zz"+q, "bad.bin"),
	}
	res, _ := d.Run(t.Context(), entries)

	var out strings.Builder
	for _, r := range res {
		if r.Err != nil {
			out.WriteString(r.Err.Error() + "\n")
		}
	}
	out.WriteString(logs.String())
	if strings.Contains(out.String(), secret) {
		t.Errorf("a secret of a URL was shown:\n%s", out.String())
	}
	want := map[string]struct {
		status Status
		err    error
	}{
		"503.bin":     {Failed, ErrHTTPStatus},
		"cut.bin":     {Downloaded, nil},
		"r.bin":       {Failed, ErrBadRedirect},
		"r2.bin":      {Downloaded, nil},
		"refused.bin": {Failed, nil},
		"bad.bin":     {Failed, ErrBadURL},
	}
	for _, r := range res {
		w := want[r.Entry.Name]
		if r.Status != w.status || (w.err != nil && !errors.Is(r.Err, w.err)) {
			t.Errorf("%s: Status %s, Err %v; want %s, %v", r.Entry.Name, r.Status, r.Err, w.status, w.err)
		}
	}
	for _, name := range []string{"r.bin", "bad.bin"} {
		for _, r := range res {
			if r.Entry.Name == name && r.Attempts > 1 {
				t.Errorf("%s: %d attempts, want 1: the error is final", name, r.Attempts)
			}
		}
	}
	if !strings.Contains(logs.String(), "performing request") {
		t.Errorf("retryablehttp's request log not seen; the test does not cover it:\n%s", logs.String())
	}
}

// TestMetaHoldsNoURL checks that the resume metadata identifies the URL by
// a digest, without its query or any other part of it.
func TestMetaHoldsNoURL(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m")
	u := "https://user:pw@h.example/a/b.tif?sig=S3CR3T"
	if err := writeMetaPath(p, partMeta{URLDigest: urlDigest(u), ETag: `"e"`, Size: 10}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"S3CR3T", "pw", "h.example", "b.tif"} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("metadata %s holds %q", b, s)
		}
	}
	if urlDigest(u) != urlDigest("https://h.example/a/b.tif?sig=other") {
		t.Error("the digest depends on the query: a re-signed URL would not resume")
	}
	if urlDigest(u) == urlDigest("https://h.example/a/c.tif") {
		t.Error("two paths share a digest")
	}
}
