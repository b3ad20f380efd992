package manifest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// FuzzParse checks that Parse never panics, reports problems only as an
// Errors, never yields an unsafe output name, and that every entry written
// back with Entry.String parses to the same entry.
func FuzzParse(f *testing.F) {
	inputs, err := filepath.Glob(filepath.Join(goldenDir, "*", "input.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add("N00E006 size=1\nhttps://h/a%2Fb.tif\n")
	f.Add("https://h/x.tif?a=b#frag sha256=" + hex64)
	f.Add("\uFEFFs15w048\r\n")

	f.Fuzz(func(t *testing.T, data string) {
		opts := manifest.Options{}
		if len(data)%2 == 1 {
			opts = manifest.Options{Years: []int{2020, 2021}, Layers: []string{"Map", "InputQuality"}}
		}
		es, err := manifest.Parse(strings.NewReader(data), "f.txt", opts)
		if err != nil {
			var errs manifest.Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("got error %v (%T), want a non-empty Errors", err, err)
			}
			for _, e := range errs {
				if e.File != "f.txt" || e.Line < 1 || e.Msg == "" {
					t.Fatalf("error %q has no file, line or message", e)
				}
			}
		}
		for _, e := range es {
			checkSafeName(t, e.Name)
			line := e.String()
			again, err := manifest.Parse(strings.NewReader(line), "again.txt", manifest.Options{})
			if err != nil {
				t.Fatalf("entry %+v written as %q does not parse: %v", e, line, err)
			}
			if len(again) != 1 {
				t.Fatalf("entry %+v written as %q parses to %d entries", e, line, len(again))
			}
			a := again[0]
			if a.URL != e.URL || a.Name != e.Name || a.Size != e.Size || a.SHA256 != e.SHA256 || a.MD5 != e.MD5 {
				t.Fatalf("round trip through %q:\ngot  %+v\nwant %+v", line, a, e)
			}
		}
		if p, err := manifest.NewPlan(es); err == nil {
			for _, e := range p.Shard(0, 3).Entries {
				checkSafeName(t, e.Name)
			}
		}
	})
}

// checkSafeName fails t unless name, joined to an output folder, stays a
// file directly inside it.
func checkSafeName(t *testing.T, name string) {
	t.Helper()
	out := filepath.Join("out", "dir")
	p := filepath.Join(out, name)
	if name == "" || filepath.Dir(p) != out || filepath.Base(p) != name || strings.ContainsAny(name, "/\\\x00") {
		t.Fatalf("unsafe output name %q", name)
	}
}

// FuzzParseBBox checks that ParseBBox never panics and that whatever it
// selects forms a valid plan of distinct grid tiles.
func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{"0,0,3,3", "179,10,-179,11", "180,84,180,84", "-180,-60,180,84", "1e-300,-0,3.0000001,2.9999999", "0,5,1,1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		es, err := manifest.ParseBBox(spec, manifest.Options{})
		if err != nil {
			if len(es) != 0 {
				t.Fatalf("got %d entries and error %v", len(es), err)
			}
			return
		}
		if len(es) == 0 || len(es) > 48*120 {
			t.Fatalf("ParseBBox(%q) gave %d tiles, want 1..%d", spec, len(es), 48*120)
		}
		p, err := manifest.NewPlan(es)
		if err != nil || len(p.Entries) != len(es) || len(p.Warnings) != 0 {
			t.Fatalf("ParseBBox(%q): NewPlan gave %v, %v; want %d distinct entries", spec, p, err, len(es))
		}
		for _, e := range es {
			// Every selected tile must be a valid tile id.
			if _, err := manifest.Parse(strings.NewReader(e.Raw), "t", manifest.Options{}); err != nil {
				t.Fatalf("ParseBBox(%q) selected %s: %v", spec, e.Raw, err)
			}
		}
	})
}
