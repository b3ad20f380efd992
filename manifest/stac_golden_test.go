package manifest_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// stacDir holds one folder per STAC case: input.json, an optional
// assets.txt (the --asset keys, one a line), a README saying what the case
// shows, and want.txt, the entries (source, name, size, checksums, URL
// redacted) or the errors.
const stacDir = "testdata/stac"

func TestSTACGolden(t *testing.T) {
	dirs, err := os.ReadDir(stacDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 8 {
		t.Fatalf("found %d STAC cases in %s, want at least 8", len(dirs), stacDir)
	}
	for _, d := range dirs {
		dir := filepath.Join(stacDir, d.Name())
		t.Run(d.Name(), func(t *testing.T) {
			var assets []string
			if b, err := os.ReadFile(filepath.Join(dir, "assets.txt")); err == nil {
				assets = strings.Fields(string(b))
			} else if !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			f, err := os.Open(filepath.Join(dir, "input.json"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			entries, err := manifest.ParseSTAC(f, "input.json", assets)
			var got strings.Builder
			writeErrors(&got, "errors", err)
			if err != nil && entries != nil {
				t.Errorf("%d entries with an error, want none", len(entries))
			}
			for _, e := range entries {
				u, query, _ := strings.Cut(e.URL, "?")
				if query != "" {
					u += "?…"
				}
				fmt.Fprintf(&got, "%s name=%s size=%d sha256=%s md5=%s\n\t%s\n", e.Source, e.Name, e.Size, e.SHA256, e.MD5, u)
			}
			if err == nil {
				if _, err := manifest.NewPlan(entries); err != nil {
					fmt.Fprintf(&got, "plan errors: %v\n", err)
				}
			}
			if strings.Contains(got.String(), "sig=") || strings.Contains(got.String(), "secret") {
				t.Errorf("the output quotes a signature or a password:\n%s", got.String())
			}
			wantFile := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(wantFile, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (run go test -run TestSTACGolden -update ./manifest to create it)", err)
			}
			if got.String() != string(want) {
				t.Errorf("%s differs (run go test -run TestSTACGolden -update ./manifest to accept):\ngot:\n%s\nwant:\n%s", wantFile, got.String(), want)
			}
		})
	}
}
