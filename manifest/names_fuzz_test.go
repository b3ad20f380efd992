package manifest

import (
	"strings"
	"testing"
)

// sideNames returns the names wcdl makes in the output folder for the
// entry named name: the final file and what the downloader's local folder
// keeps beside it (downloader/folder.go, partmeta.go's replaceMeta).
func sideNames(name string) []string {
	return []string{name, name + ".part", name + ".part.meta", name + ".part.meta.new"}
}

// FuzzPlanNamesNeverCollide checks the name rules as a property: when a
// plan accepts two entries, no name wcdl makes for one (the file, its
// part, its metadata, the metadata's replacement) is a name it makes for
// the other, even ignoring case, and every such name fits in NAME_MAX.
func FuzzPlanNamesNeverCollide(f *testing.F) {
	long := strings.Repeat("a", 241) // NAME_MAX 255 less ".part.meta.new"
	for _, seed := range [][2]string{
		{"X", "X.part.meta.new"},
		{"x.tif", "X.TIF.part"},
		{"x.tif", "x.tif.Part.Meta"},
		{"as.tif", "aſ.tif"},    // the long s folds to s
		{"k.tif", "\u212a.tif"}, // the Kelvin sign folds to k
		{long, long + "b"},
		{"a.part.x", "a"},
		{"a", "a.partial"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		p, err := NewPlan([]Entry{{URL: "https://h/1", Name: a, Size: -1}, {URL: "https://h/2", Name: b, Size: -1}})
		if err != nil {
			return // refused at plan time: nothing is written
		}
		if len(p.Entries) != 2 {
			t.Fatalf("plan of two URLs has %d entries", len(p.Entries))
		}
		for _, x := range append(sideNames(a), sideNames(b)...) {
			if len(x) > maxName {
				t.Errorf("accepted, but wcdl makes %q, %d bytes: over NAME_MAX %d", x, len(x), maxName)
			}
		}
		for _, x := range sideNames(a) {
			for _, y := range sideNames(b) {
				if strings.EqualFold(x, y) {
					t.Errorf("entries %q and %q accepted, but wcdl makes %q for one and %q for the other", a, b, x, y)
				}
			}
		}
	})
}

// TestNamesWcdlMakes checks the plan-time refusals of the name rules: each
// name wcdl makes beside an entry is refused as an entry's name, and a
// name that would not fit once wcdl adds its longest suffix is refused
// with the entry's line.
func TestNamesWcdlMakes(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"meta replacement", "https://a/x.tif\nhttps://a/x.tif.part.meta.new\n", "m.txt:2: URL names file \"x.tif.part.meta.new\", which ends in .part.meta.new"},
		{"meta replacement any case", "https://a/x.tif.PART.META.NEW\n", "m.txt:1: URL names file \"x.tif.PART.META.NEW\", which ends in .part.meta.new"},
		{"too long with a suffix", "https://a/x.tif\nhttps://a/" + strings.Repeat("n", 242) + "\n",
			"m.txt:2: URL names a file whose name is 242 bytes long; file systems allow 255, and wcdl adds up to 14 (.part.meta.new) while downloading it, so the longest name is 241"},
		{"long s", "https://a/as.tif\nhttps://a/b/a%C5%BF.tif\n", "m.txt:2: this URL would be written to \"aſ.tif\" and the one at m.txt:1 to \"as.tif\", the same file on case-insensitive file systems"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := Parse(strings.NewReader(tt.input), "m.txt", Options{})
			if err == nil {
				_, err = NewPlan(es)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v\nwant one containing %q", err, tt.want)
			}
		})
	}
	if _, err := NewPlan([]Entry{{URL: "https://a/x", Name: strings.Repeat("n", 241), Size: -1}}); err != nil {
		t.Errorf("a name of %d bytes: %v, want accepted", 241, err)
	}
}
