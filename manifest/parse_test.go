package manifest_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

const (
	base = manifest.DefaultBaseURL + "/WORLDCOVER/"
	// Map and InputQuality URLs of tile N00E006.
	url2021Map = base + "ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_N00E006_Map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif"
	url2021IQ  = base + "ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_N00E006_Map/ESA_WorldCover_10m_2021_v200_N00E006_InputQuality.tif"
	url2020Map = base + "ESA_WORLDCOVER_10M_2020_V100/MAP/ESA_WorldCover_10m_2020_v100_N00E006_Map/ESA_WorldCover_10m_2020_v100_N00E006_Map.tif"
	url2020IQ  = base + "ESA_WORLDCOVER_10M_2020_V100/MAP/ESA_WorldCover_10m_2020_v100_N00E006_Map/ESA_WorldCover_10m_2020_v100_N00E006_InputQuality.tif"
	path2020   = "WORLDCOVER/ESA_WORLDCOVER_10M_2020_V100/MAP/ESA_WorldCover_10m_2020_v100_N00E006_Map/ESA_WorldCover_10m_2020_v100_N00E006_Map.tif"

	hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	hex32 = "0123456789abcdef0123456789abcdef"
)

// lastSegment returns what follows the last '/' of u.
func lastSegment(u string) string { return u[strings.LastIndexByte(u, '/')+1:] }

// mustParse parses in as file "t.txt" and fails the test on error.
func mustParse(t *testing.T, in string, opts manifest.Options) []manifest.Entry {
	t.Helper()
	es, err := manifest.Parse(strings.NewReader(in), "t.txt", opts)
	if err != nil {
		t.Fatalf("Parse(%q): %v", in, err)
	}
	return es
}

func TestParseForms(t *testing.T) {
	all := manifest.Options{Years: []int{2020, 2021}, Layers: []string{"Map", "InputQuality"}}
	tests := []struct {
		name string
		in   string
		opts manifest.Options
		want []manifest.Entry
	}{
		{"tile id", "N00E006", manifest.Options{}, []manifest.Entry{
			{Raw: "N00E006", URL: url2021Map, Size: -1},
		}},
		{"tile id lower case", "n00e006", manifest.Options{}, []manifest.Entry{
			{Raw: "n00e006", URL: url2021Map, Size: -1},
		}},
		{"tile id south west", "s15w048", manifest.Options{}, []manifest.Entry{
			{Raw: "s15w048", URL: base + "ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_S15W048_Map/ESA_WorldCover_10m_2021_v200_S15W048_Map.tif", Size: -1},
		}},
		{"tile id grid corners", "S60W180\nN81E177", manifest.Options{}, []manifest.Entry{
			{Raw: "S60W180", URL: base + "ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_S60W180_Map/ESA_WorldCover_10m_2021_v200_S60W180_Map.tif", Size: -1},
			{Raw: "N81E177", URL: base + "ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_N81E177_Map/ESA_WorldCover_10m_2021_v200_N81E177_Map.tif", Size: -1},
		}},
		{"tile id by years and layers", "N00E006", all, []manifest.Entry{
			{Raw: "N00E006", URL: url2020Map, Size: -1},
			{Raw: "N00E006", URL: url2020IQ, Size: -1},
			{Raw: "N00E006", URL: url2021Map, Size: -1},
			{Raw: "N00E006", URL: url2021IQ, Size: -1},
		}},
		{"tile id order follows options", "N00E006", manifest.Options{Years: []int{2021, 2020}, Layers: []string{"InputQuality"}}, []manifest.Entry{
			{Raw: "N00E006", URL: url2021IQ, Size: -1},
			{Raw: "N00E006", URL: url2020IQ, Size: -1},
		}},
		{"tile id with fields, one file", "N00E006 size=10 md5=" + hex32, manifest.Options{}, []manifest.Entry{
			{Raw: "N00E006", URL: url2021Map, Size: 10, MD5: hex32},
		}},
		{"product name", "ESA_WorldCover_10m_2020_v100_N00E006_Map", all, []manifest.Entry{
			{Raw: "ESA_WorldCover_10m_2020_v100_N00E006_Map", URL: url2020Map, Size: -1},
		}},
		{"product name with .tif", "ESA_WorldCover_10m_2021_v200_N00E006_InputQuality.tif", manifest.Options{}, []manifest.Entry{
			{Raw: "ESA_WorldCover_10m_2021_v200_N00E006_InputQuality.tif", URL: url2021IQ, Size: -1},
		}},
		{"product name any case", "esa_worldcover_10M_2021_V200_n00e006_inputquality.TIF", manifest.Options{}, []manifest.Entry{
			{Raw: "esa_worldcover_10M_2021_V200_n00e006_inputquality.TIF", URL: url2021IQ, Size: -1},
		}},
		{"path", path2020, manifest.Options{}, []manifest.Entry{
			{Raw: path2020, URL: url2020Map, Size: -1},
		}},
		{"path with base URL", path2020, manifest.Options{BaseURL: "http://127.0.0.1:8080/dl/"}, []manifest.Entry{
			{Raw: path2020, URL: "http://127.0.0.1:8080/dl/" + path2020, Size: -1},
		}},
		{"https URL", "https://example.org/data/x.tif", manifest.Options{}, []manifest.Entry{
			{Raw: "https://example.org/data/x.tif", URL: "https://example.org/data/x.tif", Size: -1},
		}},
		{"http URL, any file, query", "HTTP://example.org:8080/a/b%20c.zip?sig=1", manifest.Options{}, []manifest.Entry{
			{Raw: "HTTP://example.org:8080/a/b%20c.zip?sig=1", URL: "HTTP://example.org:8080/a/b%20c.zip?sig=1", Name: "b c.zip", Size: -1},
		}},
		{"all fields, checksums lower-cased", "https://h/x.tif  sha256=" + strings.ToUpper(hex64) + "\tmd5=" + strings.ToUpper(hex32) + " size=0", manifest.Options{}, []manifest.Entry{
			{Raw: "https://h/x.tif", URL: "https://h/x.tif", Size: 0, SHA256: hex64, MD5: hex32},
		}},
		{"comments, blanks, whitespace, CRLF", "# header\r\n\r\n   \t\n  N00E006  # trailing\r\n#N03E006\n", manifest.Options{}, []manifest.Entry{
			{Raw: "N00E006", URL: url2021Map, Size: -1},
		}},
		{"comment right after entry", "N00E006#x", manifest.Options{}, []manifest.Entry{
			{Raw: "N00E006", URL: url2021Map, Size: -1},
		}},
		{"byte order mark", "\uFEFFN00E006", manifest.Options{}, []manifest.Entry{
			{Raw: "N00E006", URL: url2021Map, Size: -1},
		}},
		{"empty", "", manifest.Options{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.in, tt.opts)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d entries %v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if w.Name == "" {
					w.Name = lastSegment(w.URL)
				}
				if g.Raw != w.Raw || g.URL != w.URL || g.Name != w.Name || g.Size != w.Size || g.SHA256 != w.SHA256 || g.MD5 != w.MD5 || g.MayBeMissing {
					t.Errorf("entry %d:\ngot  %+v\nwant %+v", i, g, w)
				}
				if g.Source.File != "t.txt" || g.Source.Line < 1 || g.Source.BBox != "" {
					t.Errorf("entry %d: got source %+v, want t.txt:line", i, g.Source)
				}
			}
		})
	}
}

func TestParseLineNumbers(t *testing.T) {
	got := mustParse(t, "# c\n\nN00E006\n\n  N03E006 # x\n", manifest.Options{})
	if len(got) != 2 || got[0].Source.String() != "t.txt:3" || got[1].Source.String() != "t.txt:5" {
		t.Errorf("got %v, want sources t.txt:3 and t.txt:5", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // substrings of the one error on line 1
	}{
		{"latitude not multiple of 3", "N01E006", []string{`"N01E006"`, "latitude 01 is not a multiple of 3"}},
		{"longitude not multiple of 3", "N00E007", []string{"longitude 007 is not a multiple of 3"}},
		{"latitude out of range", "N90E000", []string{"N90 is outside the grid", "S60 to N81"}},
		{"latitude N84 out of range", "N84E000", []string{"N84 is outside the grid"}},
		{"latitude S63 out of range", "S63E000", []string{"S63 is outside the grid"}},
		{"longitude out of range", "N00E180", []string{"E180 is outside the grid", "W180 to E177"}},
		{"longitude W183", "N00W183", []string{"W183 is outside the grid"}},
		{"wrong order", "E006N00", []string{"wrong order", "latitude (N/S) comes first"}},
		{"digit count", "N0E6", []string{"latitude needs exactly two digits"}},
		{"longitude digit count", "N00E06", []string{"longitude needs exactly three digits"}},
		{"no longitude", "N00", []string{"no E/W longitude"}},
		{"S00", "S00E006", []string{"written N00"}},
		{"W000", "N00W000", []string{"written E000"}},
		{"garbage", "hello", []string{`"hello" is not a manifest entry`, "accepted forms"}},
		{"product bad year", "ESA_WorldCover_10m_2019_v100_N00E006_Map", []string{`year "2019"`, "2020 (v100) or 2021 (v200)"}},
		{"product version mismatch", "ESA_WorldCover_10m_2020_v200_N00E006_Map", []string{`version "v200" does not match year 2020`, "v100"}},
		{"product bad layer", "ESA_WorldCover_10m_2021_v200_N00E006_Forest", []string{`layer "Forest" is not Map or InputQuality`}},
		{"product bad tile", "ESA_WorldCover_10m_2021_v200_N01E006_Map", []string{"latitude 01 is not a multiple of 3"}},
		{"product bad shape", "ESA_WorldCover_10m_2021_N00E006_Map", []string{"must look like"}},
		{"path not canonical", strings.Replace(path2020, "V100/MAP", "V100/map", 1), []string{"not the canonical path", "WORLDCOVER/ESA_WORLDCOVER_10M_2020_V100/MAP/"}},
		{"path wrong folder", strings.Replace(path2020, "_Map/ESA", "_InputQuality/ESA", 1), []string{"not the canonical path"}},
		{"path bad product", "WORLDCOVER/x/ESA_WorldCover_10m_2021_v100_N00E006_Map.tif", []string{"WorldCover path", "does not match year 2021"}},
		{"other relative path", "data/x.tif", []string{`relative path "data/x.tif" is not a WorldCover path`, "accepted forms"}},
		{"absolute file path", "/etc/passwd", []string{"absolute file path", "accepted forms"}},
		{"backslash", `a\b.tif`, []string{"backslash"}},
		{"ftp URL", "ftp://h/x.tif", []string{`URL scheme "ftp" is not supported`}},
		{"file URL", "file:///etc/passwd", []string{`URL scheme "file" is not supported`}},
		{"URL without host", "https:///x.tif", []string{"URL has no host"}},
		{"URL without path", "https://h", []string{"URL names no file"}},
		{"URL with trailing slash", "https://h/dir/", []string{"URL names no file"}},
		{"URL with user", "https://user:hunter2@h/x.tif", []string{"user name or password"}},
		{"URL invalid", "https://h:x/x.tif", []string{"URL is not valid"}},
		{"URL bad escape", "https://h/%zz.tif", []string{"URL is not valid"}},
		{"URL control character", "https://h/a\x01b.tif", []string{"URL is not valid"}},
		{"URL dot-dot", "https://h/../x.tif", []string{`".." segment`}},
		{"URL dot", "https://h/./x.tif", []string{`"." segment`}},
		{"URL escaped dot-dot", "https://h/%2e%2e/x.tif", []string{`".." segment`}},
		{"URL escaped dot-dot as name", "https://h/a/%2E%2E", []string{`".." segment`}},
		{"URL escaped slash", "https://h/a%2Fb.tif", []string{`"a/b.tif"`, "path separator"}},
		{"URL escaped backslash", "https://h/a%5Cb.tif", []string{`"a\\b.tif"`, "path separator"}},
		{"URL escaped NUL", "https://h/a%00b.tif", []string{"control character"}},
		{"URL escaped newline", "https://h/a%0Ab.tif", []string{"control character"}},
		{"URL escaped C1 control", "https://h/a%C2%85b.tif", []string{"control character"}},
		{"URL invalid UTF-8 name", "https://h/a%FFb.tif", []string{"not valid UTF-8"}},
		{"URL name too long", "https://h/" + strings.Repeat("a", 252) + ".tif", []string{"256 bytes long"}},
		{"URL drive letter name", "https://h/C%3Ax.tif", []string{"drive letter"}},
		{"field not key=value", "N00E006 deadbeef", []string{`field "deadbeef" is not key=value`}},
		{"unknown field", "N00E006 crc32=1", []string{`unknown field "crc32"`}},
		{"duplicate field", "N00E006 size=1 size=1", []string{"field size given twice"}},
		{"short sha256", "N00E006 sha256=abc", []string{"field sha256", "want 64 hex digits"}},
		{"non-hex sha256", "N00E006 sha256=" + strings.Repeat("g", 64), []string{"field sha256", "not hex"}},
		{"short md5", "N00E006 md5=" + hex64, []string{"field md5", "want 32 hex digits"}},
		{"negative size", "N00E006 size=-1", []string{"field size", "not a non-negative decimal"}},
		{"plus size", "N00E006 size=+1", []string{"field size", "not a non-negative decimal"}},
		{"hex size", "N00E006 size=0x10", []string{"field size", "not a non-negative decimal"}},
		{"empty size", "N00E006 size=", []string{"field size", "empty"}},
		{"huge size", "N00E006 size=99999999999999999999", []string{"field size", "too large"}},
		{"line too long", "https://h/" + strings.Repeat("a", 70000) + ".tif", []string{"longer than"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := manifest.Parse(strings.NewReader(tt.in+"\nN03E006\n"), "t.txt", manifest.Options{})
			var errs manifest.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got error %v, want manifest.Errors", err)
			}
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(errs), err)
			}
			e := errs[0]
			if e.File != "t.txt" || e.Line != 1 {
				t.Errorf("got error at %s:%d, want t.txt:1", e.File, e.Line)
			}
			if !strings.HasPrefix(e.Error(), "t.txt:1: ") {
				t.Errorf("got %q, want it to start with t.txt:1: ", e.Error())
			}
			for _, w := range tt.want {
				if !strings.Contains(e.Msg, w) {
					t.Errorf("got message %q, want it to contain %q", e.Msg, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q repeats a password", err)
			}
			// The good line after the bad one is still parsed.
			if len(got) != 1 || got[0].Source.Line != 2 {
				t.Errorf("got entries %v, want the one from line 2", got)
			}
		})
	}
}

func TestParseAmbiguousFields(t *testing.T) {
	opts := manifest.Options{Layers: []string{"Map", "InputQuality"}}
	_, err := manifest.Parse(strings.NewReader("N00E006 size=1\n"), "t.txt", opts)
	if err == nil || !strings.Contains(err.Error(), "t.txt:1: ") || !strings.Contains(err.Error(), "expands to 2 files") || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("got %v, want an ambiguity error at t.txt:1", err)
	}
	// Without fields the same line is fine.
	if got := mustParse(t, "N00E006\n", opts); len(got) != 2 {
		t.Errorf("got %d entries, want 2", len(got))
	}
}

func TestParseReportsEveryLine(t *testing.T) {
	in := "N01E006\nN00E006\nbad\n\nhttps://h/../x\nN00E006 size=x crc=1\n"
	_, err := manifest.Parse(strings.NewReader(in), "m.txt", manifest.Options{})
	var errs manifest.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v, want manifest.Errors", err)
	}
	var got []int
	for _, e := range errs {
		got = append(got, e.Line)
	}
	want := []int{1, 3, 5, 6, 6}
	if len(got) != len(want) {
		t.Fatalf("got errors on lines %v, want %v:\n%v", got, want, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got errors on lines %v, want %v", got, want)
		}
	}
	if lines := strings.Count(err.Error(), "\n") + 1; lines != len(want) {
		t.Errorf("Error() has %d lines, want %d", lines, len(want))
	}
	// errors.As finds each *Error, and a *Errors target works too.
	var one *manifest.Error
	if !errors.As(err, &one) || one.Line != 1 {
		t.Errorf("errors.As(*Error) got %v, want the line-1 error", one)
	}
	var perrs *manifest.Errors
	if !errors.As(err, &perrs) || len(*perrs) != len(want) {
		t.Errorf("errors.As(*Errors) got %v", perrs)
	}
}

func TestParseLongLineThenMore(t *testing.T) {
	in := strings.Repeat("x", 200000) + "\nN00E006\n" + strings.Repeat("y", 70000)
	got, err := manifest.Parse(strings.NewReader(in), "t.txt", manifest.Options{})
	var errs manifest.Errors
	if !errors.As(err, &errs) || len(errs) != 2 || errs[0].Line != 1 || errs[1].Line != 3 {
		t.Fatalf("got %v, want too-long errors on lines 1 and 3", err)
	}
	if len(got) != 1 || got[0].Source.Line != 2 {
		t.Errorf("got %v, want the entry on line 2", got)
	}
}

type failReader struct{ err error }

func (r failReader) Read([]byte) (int, error) { return 0, r.err }

func TestParseReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := manifest.Parse(io.MultiReader(strings.NewReader("N00E006\n"), failReader{boom}), "t.txt", manifest.Options{})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "t.txt") {
		t.Errorf("got %v, want a wrapped read error naming t.txt", err)
	}
}

func TestParseBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts manifest.Options
		want string
	}{
		{"year", manifest.Options{Years: []int{2019}}, "year 2019"},
		{"year twice", manifest.Options{Years: []int{2020, 2020}}, "listed twice"},
		{"layer", manifest.Options{Layers: []string{"map"}}, `layer "map"`},
		{"base URL", manifest.Options{BaseURL: "ftp://h"}, "base URL"},
		{"base URL with user", manifest.Options{BaseURL: "https://u:p@h"}, "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := manifest.Parse(strings.NewReader("N00E006"), "t.txt", tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse: got %v, want an error containing %q", err, tt.want)
			}
			_, err = manifest.ParseBBox("0,0,1,1", tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseBBox: got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseYears(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr string
	}{
		{"2020", []int{2020}, ""},
		{"2020,2021", []int{2020, 2021}, ""},
		{" 2021 , 2020 ", []int{2021, 2020}, ""},
		{"", nil, "empty item"},
		{"2020,", nil, "empty item"},
		{"2019", nil, "2020 (v100) and 2021 (v200)"},
		{"twenty", nil, "not a year"},
		{"2021,2021", nil, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := manifest.ParseYears(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !equal(got, tt.want) {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestParseLayers(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"Map", []string{"Map"}, ""},
		{"map,INPUTQUALITY", []string{"Map", "InputQuality"}, ""},
		{" inputquality ", []string{"InputQuality"}, ""},
		{"", nil, "empty item"},
		{"Forest", nil, "Map and InputQuality"},
		{"Map,map", nil, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := manifest.ParseLayers(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !equal(got, tt.want) {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEntryString(t *testing.T) {
	tests := []struct {
		e    manifest.Entry
		want string
	}{
		{manifest.Entry{URL: "https://h/x.tif", Size: -1}, "https://h/x.tif"},
		{manifest.Entry{URL: "https://h/x.tif", Size: 0, SHA256: hex64, MD5: hex32}, "https://h/x.tif sha256=" + hex64 + " md5=" + hex32 + " size=0"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestSourceString(t *testing.T) {
	tests := []struct {
		s    manifest.Source
		want string
	}{
		{manifest.Source{File: "tiles.txt", Line: 12}, "tiles.txt:12"},
		{manifest.Source{BBox: "0,0,3,3"}, "bbox 0,0,3,3"},
		{manifest.Source{File: "-"}, "-"},
		{manifest.Source{}, ""},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.s, got, tt.want)
		}
	}
}
