package manifest_test

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden want.txt files under testdata/manifest")

// goldenDir holds one folder per case: input.txt (a manifest), an optional
// options.txt (lines years=..., layers=..., base=..., bbox=...), and want.txt,
// the resulting plan or errors as written by describe.
const goldenDir = "../testdata/manifest"

// goldenOptions reads dir/options.txt, if any.
func goldenOptions(t *testing.T, dir string) (opts manifest.Options, bboxes []string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "options.txt"))
	if errors.Is(err, os.ErrNotExist) {
		return opts, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, _ := strings.Cut(line, "=")
		switch key {
		case "years":
			opts.Years, err = manifest.ParseYears(val)
		case "layers":
			opts.Layers, err = manifest.ParseLayers(val)
		case "base":
			opts.BaseURL = val
		case "bbox":
			bboxes = append(bboxes, val)
		default:
			err = fmt.Errorf("unknown option %q", key)
		}
		if err != nil {
			t.Fatalf("%s/options.txt: %v", dir, err)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return opts, bboxes
}

// describe runs a golden case and writes what it gives as text.
func describe(t *testing.T, dir string) string {
	t.Helper()
	opts, bboxes := goldenOptions(t, dir)
	f, err := os.Open(filepath.Join(dir, "input.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	var groups [][]manifest.Entry
	es, err := manifest.Parse(f, "input.txt", opts)
	groups = append(groups, es)
	writeErrors(&b, "parse errors", err)
	for _, spec := range bboxes {
		es, err := manifest.ParseBBox(spec, opts)
		if err != nil {
			fmt.Fprintf(&b, "bbox error: %v\n", err)
		}
		groups = append(groups, es)
	}
	p, err := manifest.NewPlan(groups...)
	writeErrors(&b, "plan errors", err)
	if p != nil {
		fmt.Fprintf(&b, "entries: %d\n", len(p.Entries))
		for _, e := range p.Entries {
			fmt.Fprintf(&b, "%s raw=%s name=%s", e.Source, e.Raw, e.Name)
			if e.MayBeMissing {
				b.WriteString(" may-be-missing")
			}
			fmt.Fprintf(&b, "\n\t%s\n", e)
		}
		fmt.Fprintf(&b, "warnings: %d\n", len(p.Warnings))
		for _, w := range p.Warnings {
			fmt.Fprintf(&b, "%s\n", w)
		}
	}
	return b.String()
}

// writeErrors writes err, an Errors or nil, one problem a line.
func writeErrors(b *strings.Builder, title string, err error) {
	if err == nil {
		return
	}
	var errs manifest.Errors
	if !errors.As(err, &errs) {
		fmt.Fprintf(b, "%s: %v\n", title, err)
		return
	}
	fmt.Fprintf(b, "%s: %d\n", title, len(errs))
	for _, e := range errs {
		fmt.Fprintf(b, "%s\n", e)
	}
}

func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(goldenDir, "*", "input.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 6 {
		t.Fatalf("found %d golden cases in %s, want at least 6", len(dirs), goldenDir)
	}
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			got := describe(t, dir)
			wantFile := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update ./manifest to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs (run go test -run TestGolden -update ./manifest to accept):\ngot:\n%s\nwant:\n%s", wantFile, got, want)
			}
		})
	}
}
