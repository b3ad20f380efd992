package manifest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// FuzzParseSTAC checks that ParseSTAC never panics, reports problems only
// as manifest errors naming the file with a line, returns no entries with
// an error, and gives entries a plan accepts: http(s) URLs, safe names.
func FuzzParseSTAC(f *testing.F) {
	inputs, err := filepath.Glob(filepath.Join(stacDir, "*", "input.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data), "")
		f.Add(string(data), "map")
	}
	f.Add(`{"type":"Feature","assets":{"a":{"href":"https://h/x.tif","type":"image/tiff; application=geotiff","file:size":1e3}}}`, "")
	f.Add(`{"type":"FeatureCollection","features":{}}`, "a")

	f.Fuzz(func(t *testing.T, data, asset string) {
		var assets []string
		if asset != "" {
			assets = []string{asset}
		}
		es, err := manifest.ParseSTAC(strings.NewReader(data), "f.json", assets)
		if err != nil {
			if es != nil {
				t.Fatalf("%d entries with an error", len(es))
			}
			var one *manifest.Error
			if !errors.As(err, &one) || one.File != "f.json" {
				t.Fatalf("error %q is not a manifest error naming f.json", err)
			}
			return
		}
		for _, e := range es {
			if !strings.HasPrefix(strings.ToLower(e.URL), "http://") && !strings.HasPrefix(strings.ToLower(e.URL), "https://") {
				t.Fatalf("entry URL %q is not http(s)", e.URL)
			}
			if e.Name == "" || strings.ContainsAny(e.Name, `/\`) || e.Name == "." || e.Name == ".." {
				t.Fatalf("unsafe name %q", e.Name)
			}
			if e.Source.File != "f.json" || e.Source.Line < 1 {
				t.Fatalf("entry source %+v has no line", e.Source)
			}
		}
		// A plan may refuse duplicates, but must not panic.
		_, _ = manifest.NewPlan(es)
	})
}
