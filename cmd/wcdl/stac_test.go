package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestSTACManifest downloads the assets a STAC ItemCollection names: the
// token goes to the trusted host only, and file:checksum and file:size are
// checked as sha256= and size= are.
func TestSTACManifest(t *testing.T) {
	const tok = "stac-run-token-0b5d"
	body := map[string]string{"/a/map.txt": "map of a", "/b/map.txt": "map of b", "/b/map-b.txt": "map of b", "/b/quality.txt": "quality of b"}
	var mu sync.Mutex
	auths := map[string]string{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths[r.Host+r.URL.Path] = r.Header.Get("Authorization")
		mu.Unlock()
		b, ok := body[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		_, _ = w.Write([]byte(b))
	})
	svc := httptest.NewServer(handler)
	defer svc.Close()
	other := httptest.NewServer(handler)
	defer other.Close()
	multihash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "1220" + hex.EncodeToString(sum[:])
	}
	item := func(id, assets string) string {
		return fmt.Sprintf(`{"type": "Feature", "stac_version": "1.0.0", "id": %q, "links": [], "assets": {%s}}`, id, assets)
	}
	stac := `{"type": "FeatureCollection", "features": [
` + item("a", fmt.Sprintf(`"data": {"href": "%s/a/map.txt", "type": "text/plain", "file:checksum": "%s", "file:size": 8}`, svc.URL, multihash("map of a"))) + `,
` + item("b", fmt.Sprintf(`"data": {"href": "%s/b/map.txt", "type": "text/plain", "file:checksum": "%s"},
  "quality": {"href": "%s/b/quality.txt", "type": "text/plain"}`, svc.URL, multihash("tampered"), other.URL)) + `
]}`
	m := filepath.Join(t.TempDir(), "search.json")
	if err := os.WriteFile(m, []byte(stac), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	res := runWCDL(t, t.Context(), map[string]string{"WCDL_TOKEN": tok}, "", nil,
		"--base-url", svc.URL, "-m", m, "--asset", "data", "--asset", "quality", "-o", out, "--retries", "1")
	// a/map.txt and b/map.txt share a name: the plan refuses it, and
	// nothing is downloaded.
	if res.code != exitUsage || !strings.Contains(res.stderr, `would both be written to "map.txt"`) {
		t.Fatalf("exit %d, want %d with the name collision; stderr:\n%s", res.code, exitUsage, res.stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("the output folder was created for a plan with errors")
	}

	// With distinct names, the checksum decides.
	stac = strings.ReplaceAll(stac, "/b/map.txt", "/b/map-b.txt")
	if err := os.WriteFile(m, []byte(stac), 0o644); err != nil {
		t.Fatal(err)
	}
	res = runWCDL(t, t.Context(), map[string]string{"WCDL_TOKEN": tok}, "", nil,
		"--base-url", svc.URL, "-m", m, "--asset", "data", "--asset", "quality", "-o", out, "--retries", "1")
	if res.code != exitFailed || !strings.Contains(res.stderr, "2 downloaded, 1 failed") || !strings.Contains(res.stderr, "failed map-b.txt") {
		t.Errorf("exit %d, want %d with map-b.txt refused for its sha256; stderr:\n%s", res.code, exitFailed, res.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(out, "quality.txt")); err != nil || string(b) != "quality of b" {
		t.Errorf("quality.txt: got %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(out, "map-b.txt")); err == nil {
		t.Errorf("map-b.txt was published despite its checksum")
	}
	if b, err := os.ReadFile(filepath.Join(out, "map.txt")); err != nil || string(b) != "map of a" {
		t.Errorf("map.txt: got %q, %v", b, err)
	}
	mu.Lock()
	defer mu.Unlock()
	for where, a := range auths {
		trusted := strings.HasPrefix("http://"+where, svc.URL)
		if trusted != (a == "Bearer "+tok) {
			t.Errorf("%s got Authorization %q; want the token only on the --base-url host", where, a)
		}
	}
}

// TestAssetNeedsSTAC: --asset chooses assets from STAC manifests; given
// with manifests of lines only, it is refused (exit 2) instead of being
// ignored while the whole manifest is planned.
func TestAssetNeedsSTAC(t *testing.T) {
	dir := t.TempDir()
	lines := filepath.Join(dir, "tiles.txt")
	if err := os.WriteFile(lines, []byte("N00E006\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stac := filepath.Join(dir, "search.json")
	item := `{"type": "Feature", "stac_version": "1.0.0", "id": "a", "links": [],
  "assets": {"map": {"href": "https://example.org/a/map.tif", "type": "image/tiff; application=geotiff"}}}`
	if err := os.WriteFile(stac, []byte(item), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"lines only", []string{"-m", lines, "--asset", "map"}, exitUsage, "--asset map: assets are chosen from STAC manifests"},
		{"lines and STAC", []string{"-m", lines, "-m", stac, "--asset", "map"}, exitOK, ""},
		{"STAC", []string{"-m", stac, "--asset", "map"}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runWCDL(t, t.Context(), nil, "", nil, append(tt.args, "--dry-run", "-o", filepath.Join(dir, "out"))...)
			if res.code != tt.wantCode || !strings.Contains(res.stderr, tt.wantErr) {
				t.Errorf("exit code %d, stderr:\n%s\nwant exit code %d and %q", res.code, res.stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}
