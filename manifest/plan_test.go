package manifest_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

func TestNewPlanDuplicates(t *testing.T) {
	a := mustParse(t, "N00E006\nESA_WorldCover_10m_2021_v200_N00E006_Map size=5\n"+url2021Map+" md5="+hex32+"\n", manifest.Options{})
	b, err := manifest.ParseBBox("6.5,0.5,7,1", manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := manifest.NewPlan(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != 1 {
		t.Fatalf("got %d entries, want 1", len(p.Entries))
	}
	e := p.Entries[0]
	if e.Source.String() != "t.txt:1" || e.Size != 5 || e.MD5 != hex32 || e.MayBeMissing {
		t.Errorf("got %+v, want the line-1 entry with size 5, the md5, and not MayBeMissing", e)
	}
	want := []string{
		"t.txt:2: ESA_WorldCover_10m_2021_v200_N00E006_Map.tif duplicates t.txt:1 (same URL); kept once",
		"t.txt:3: ESA_WorldCover_10m_2021_v200_N00E006_Map.tif duplicates t.txt:1 (same URL); kept once",
		"bbox 6.5,0.5,7,1 overlaps t.txt: 1 file is in both, downloaded once",
	}
	if !equal(p.Warnings, want) {
		t.Errorf("got warnings\n%s\nwant\n%s", strings.Join(p.Warnings, "\n"), strings.Join(want, "\n"))
	}
}

func TestNewPlanBBoxOnlyMayBeMissing(t *testing.T) {
	b1, _ := manifest.ParseBBox("6.5,0.5,7,1", manifest.Options{})
	b2, _ := manifest.ParseBBox("6,0,9,3", manifest.Options{})
	p, err := manifest.NewPlan(b1, b2)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != 1 || !p.Entries[0].MayBeMissing || len(p.Warnings) != 1 || !strings.HasPrefix(p.Warnings[0], "bbox 6,0,9,3 overlaps ") {
		t.Errorf("got %+v, want one MayBeMissing entry and a warning naming the second box", p)
	}
}

func TestNewPlanErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // substrings of the single error, which is on line 2
	}{
		{"different size", "N00E006 size=1\nESA_WorldCover_10m_2021_v200_N00E006_Map size=2", []string{"duplicates t.txt:1", "conflicting", "size 1 there but 2 here"}},
		{"different sha256", "N00E006 sha256=" + hex64 + "\n" + url2021Map + " sha256=" + strings.Repeat("0", 64), []string{"duplicates t.txt:1", "different sha256"}},
		{"different md5", "N00E006 md5=" + hex32 + "\n" + url2021Map + " md5=" + strings.Repeat("0", 32), []string{"duplicates t.txt:1", "different md5"}},
		{"collision", "https://a/x.tif\nhttps://b/x.tif", []string{"t.txt:1", "both be written to \"x.tif\""}},
		{"collision ignoring case", "https://a/x.tif\nhttps://b/X.TIF", []string{"t.txt:1", `"X.TIF"`, `"x.tif"`, "case-insensitive"}},
		{"collision with a product", "N00E006\nhttps://mirror/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif", []string{"t.txt:1", "both be written to"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := mustParse(t, tt.in, manifest.Options{})
			p, err := manifest.NewPlan(es)
			var errs manifest.Errors
			if !errors.As(err, &errs) || len(errs) != 1 {
				t.Fatalf("got %v, %v; want one error", p, err)
			}
			if errs[0].File != "t.txt" || errs[0].Line != 2 {
				t.Errorf("got error at %s:%d, want t.txt:2", errs[0].File, errs[0].Line)
			}
			for _, w := range tt.want {
				if !strings.Contains(errs[0].Error(), w) {
					t.Errorf("got %q, want it to contain %q", errs[0].Error(), w)
				}
			}
		})
	}
}

func TestNewPlanCollisionAcrossFiles(t *testing.T) {
	a, _ := manifest.Parse(strings.NewReader("https://a/x.tif\n"), "a.txt", manifest.Options{})
	b, _ := manifest.Parse(strings.NewReader("\nhttps://b/x.tif\n"), "b.txt", manifest.Options{})
	_, err := manifest.NewPlan(a, b)
	want := `b.txt:2: this URL and the different URL at a.txt:1 would both be written to "x.tif"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestNewPlanCheckNames(t *testing.T) {
	// Entries built by hand are checked too.
	tests := []struct {
		name string
		e    manifest.Entry
		want string
	}{
		{"dot-dot", manifest.Entry{URL: "https://h/x", Name: ".."}, "leave the output folder"},
		{"slash", manifest.Entry{URL: "https://h/x", Name: "a/b"}, "path separator"},
		{"absolute", manifest.Entry{URL: "https://h/x", Name: "/etc/passwd"}, "path separator"},
		{"backslash", manifest.Entry{URL: "https://h/x", Name: `a\b.tif`}, "path separator"},
		{"NUL", manifest.Entry{URL: "https://h/x", Name: "a\x00b"}, "control character"},
		{"empty", manifest.Entry{URL: "https://h/x", Name: ""}, "names no file"},
		{"right-to-left override", manifest.Entry{URL: "https://h/x", Name: "invoice\u202efit.exe"}, "invisible character U+202E"},
		{"zero-width space", manifest.Entry{URL: "https://h/x", Name: "a\u200bb.tif"}, "invisible character U+200B"},
		{"byte order mark", manifest.Entry{URL: "https://h/x", Name: "\ufeffa.tif"}, "invisible character U+FEFF"},
		{"line separator", manifest.Entry{URL: "https://h/x", Name: "a\u2028b.tif"}, "invisible character U+2028"},
		{"part suffix", manifest.Entry{URL: "https://h/x", Name: "x.tif.part"}, "ends in .part,"},
		{"part suffix any case", manifest.Entry{URL: "https://h/x", Name: "x.tif.PART"}, "ends in .part,"},
		{"meta suffix", manifest.Entry{URL: "https://h/x", Name: "x.tif.part.meta"}, "ends in .part.meta,"},
		{"no URL", manifest.Entry{Name: "x"}, "no URL"},
		{"bbox source", manifest.Entry{URL: "https://h/x", Name: "", Source: manifest.Source{BBox: "1,2,3,4"}}, "bbox 1,2,3,4: entry names no file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := manifest.NewPlan([]manifest.Entry{tt.e})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestTraversalNeverPlanned(t *testing.T) {
	attempts := []string{
		"https://h/../x.tif",
		"https://h/%2e%2e/x.tif",
		"https://h/%2E%2E",
		"https://h/a%2Fb.tif",
		"https://h/a%2f..%2fb.tif",
		"https://h/a%5Cb.tif",
		"https://h/%2Fetc%2Fpasswd",
		"/etc/passwd",
		`a\b.tif`,
		`..\..\x.tif`,
		"../x.tif",
		"WORLDCOVER/../../x.tif",
		"file:///etc/passwd",
	}
	for _, a := range attempts {
		t.Run(a, func(t *testing.T) {
			es, err := manifest.Parse(strings.NewReader(a), "t.txt", manifest.Options{})
			if err == nil || len(es) != 0 {
				t.Errorf("got entries %v, err %v; want an error and no entry", es, err)
			}
		})
	}
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		k, n    int
		wantErr string
	}{
		{"0/1", 0, 1, ""},
		{"0/4", 0, 4, ""},
		{"3/4", 3, 4, ""},
		{" 2 / 5 ", 2, 5, ""},
		{"4/4", 0, 0, "K must be below N"},
		{"0/0", 0, 0, "N must be at least 1"},
		{"-1/4", 0, 0, "K is not"},
		{"1/x", 0, 0, "N is not"},
		{"1", 0, 0, "want K/N"},
		{"", 0, 0, "want K/N"},
		{"1/2/3", 0, 0, "N is not"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			k, n, err := manifest.ParseShard(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %d/%d, %v; want error containing %q", k, n, err, tt.wantErr)
				}
				return
			}
			if err != nil || k != tt.k || n != tt.n {
				t.Errorf("got %d/%d, %v; want %d/%d", k, n, err, tt.k, tt.n)
			}
		})
	}
}

// checkShards fails t unless the n shards of p hold every entry exactly once
// and each entry's shard is the same in p2, which has the same entries in
// another order.
func checkShards(t *testing.T, p, p2 *manifest.Plan, n int) {
	t.Helper()
	where := map[string]int{}
	for k := 0; k < n; k++ {
		for _, e := range p.Shard(k, n).Entries {
			if prev, ok := where[e.Name]; ok {
				t.Fatalf("n=%d: %s is in shards %d and %d", n, e.Name, prev, k)
			}
			where[e.Name] = k
		}
	}
	if len(where) != len(p.Entries) {
		t.Fatalf("n=%d: shards hold %d entries, plan has %d", n, len(where), len(p.Entries))
	}
	for k := 0; k < n; k++ {
		for _, e := range p2.Shard(k, n).Entries {
			if where[e.Name] != k {
				t.Fatalf("n=%d: %s is in shard %d of one order but %d of another", n, e.Name, where[e.Name], k)
			}
		}
	}
}

func TestShard(t *testing.T) {
	es, err := manifest.ParseBBox("-10,30,20,60", manifest.Options{Years: []int{2020, 2021}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := manifest.NewPlan(es)
	if err != nil {
		t.Fatal(err)
	}
	rev := make([]manifest.Entry, len(es))
	for i, e := range es {
		rev[len(es)-1-i] = e
	}
	p2, _ := manifest.NewPlan(rev)
	for _, n := range []int{1, 2, 3, 7, 64, len(es) + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { checkShards(t, p, p2, n) })
	}
	// With 4 shards of 220 entries, no shard should be empty or hold all.
	for k := 0; k < 4; k++ {
		if got := len(p.Shard(k, 4).Entries); got == 0 || got == len(es) {
			t.Errorf("shard %d/4 has %d of %d entries", k, got, len(es))
		}
	}
	// An entry's shard does not depend on what else is in the plan.
	one, _ := manifest.NewPlan(es[5:6])
	for k := 0; k < 7; k++ {
		inOne := len(one.Shard(k, 7).Entries) == 1
		inAll := false
		for _, e := range p.Shard(k, 7).Entries {
			inAll = inAll || e.Name == es[5].Name
		}
		if inOne != inAll {
			t.Errorf("shard %d/7: entry alone %v, in the full plan %v", k, inOne, inAll)
		}
	}
}

func TestShardProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 200; iter++ {
		var es []manifest.Entry
		for i, m := 0, r.IntN(50); i < m; i++ {
			name := fmt.Sprintf("f%d-%d.tif", i, r.Int64())
			es = append(es, manifest.Entry{URL: "https://h/" + name, Name: name, Size: -1})
		}
		p, err := manifest.NewPlan(es)
		if err != nil {
			t.Fatal(err)
		}
		shuffled := append([]manifest.Entry(nil), es...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		p2, _ := manifest.NewPlan(shuffled)
		checkShards(t, p, p2, 1+r.IntN(20))
	}
}

func TestShardPanicsOutOfRange(t *testing.T) {
	p := &manifest.Plan{}
	for _, kn := range [][2]int{{0, 0}, {1, 1}, {-1, 2}} {
		t.Run(fmt.Sprint(kn), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Shard(%d, %d) did not panic", kn[0], kn[1])
				}
			}()
			p.Shard(kn[0], kn[1])
		})
	}
}

// TestInternalNamesRefused checks that a manifest cannot name a file that
// would take another entry's partial file or metadata, nor one disguised by
// invisible characters, and that each refusal names file:line.
func TestInternalNamesRefused(t *testing.T) {
	in := "https://a/x.tif\nhttps://a/x.tif.part\nhttps://a/x.tif.part.meta\nhttps://a/report%E2%80%AEfit.tif\nhttps://a/z%E2%80%8B.tif\n"
	_, err := manifest.Parse(strings.NewReader(in), "m.txt", manifest.Options{})
	var errs manifest.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v, want manifest.Errors", err)
	}
	want := []string{"m.txt:2: ", "m.txt:3: ", "m.txt:4: ", "m.txt:5: "}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(want), err)
	}
	for i, e := range errs {
		if !strings.HasPrefix(e.Error(), want[i]) {
			t.Errorf("error %d = %q, want it to start with %q", i, e, want[i])
		}
		if strings.ContainsRune(e.Error(), '\u202e') || strings.ContainsRune(e.Error(), '\u200b') {
			t.Errorf("error %d prints the invisible character itself: %q", i, e)
		}
	}
}

// TestNewPlanOverlapSummary: inputs that share tiles (a box, an area, two
// manifests) get one line per pair of inputs, however many tiles they
// share, not one line per tile.
func TestNewPlanOverlapSummary(t *testing.T) {
	box, err := manifest.ParseBBox("0,0,6,6", manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	area, err := manifest.ParseAOI(context.Background(), strings.NewReader(`{"type":"Polygon","coordinates":[[[1,1],[5,1],[5,5],[1,5],[1,1]]]}`), "a.json", manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m1, err := manifest.Parse(strings.NewReader("N00E000\nN03E003\n"), "one.txt", manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := manifest.Parse(strings.NewReader("N00E000\nN03E003\nN09E009\n"), "two.txt", manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := manifest.NewPlan(m1, m2, box, area)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"two.txt overlaps one.txt: 2 files are in both, downloaded once",
		"bbox 0,0,6,6 overlaps one.txt: 2 files are in both, downloaded once",
		"aoi a.json overlaps one.txt: 2 files are in both, downloaded once",
		"aoi a.json overlaps bbox 0,0,6,6: 2 files are in both, downloaded once",
	}
	if !equal(p.Warnings, want) {
		t.Errorf("got warnings\n%s\nwant\n%s", strings.Join(p.Warnings, "\n"), strings.Join(want, "\n"))
	}
	if len(p.Entries) != 5 {
		t.Errorf("%d entries, want 5 (N00E000, N03E003, N09E009, N00E003, N03E000)", len(p.Entries))
	}
}
