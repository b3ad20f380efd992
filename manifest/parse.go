package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxLine is the longest manifest line Parse accepts, in bytes. Longer lines
// are reported as errors and skipped.
const maxLine = 64 << 10

// Parse reads a manifest: one entry per line, in any of these forms.
//
//	N00E006                                     tile id (any case), expanded by opts.Years × opts.Layers
//	ESA_WorldCover_10m_2021_v200_N00E006_Map     product name, with or without ".tif"
//	WORLDCOVER/ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_N00E006_Map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif
//	                                            canonical path under opts.BaseURL
//	https://host/any/file.tif                   absolute http(s) URL of any file
//
// An entry may be followed by whitespace-separated fields sha256=<64 hex>,
// md5=<32 hex> and size=<bytes>. A '#' starts a comment that runs to the end
// of the line (so a URL cannot hold a literal '#': write %23); blank lines are
// ignored. Other relative paths, absolute file paths and other URL schemes
// are errors.
//
// file names the manifest in errors and in each Entry's Source. Parse reads
// r line by line and never holds the whole input. If any line is wrong, err
// is an Errors listing every bad line with its line number, and the entries
// returned are those of the good lines only, so that a caller can report
// plan-level problems too; nothing must be downloaded unless err is nil. A
// read error from r or invalid opts is returned as a plain error.
func Parse(r io.Reader, file string, opts Options) ([]Entry, error) {
	opts, err := opts.checked()
	if err != nil {
		return nil, err
	}
	p := parser{file: file, opts: opts}
	br := bufio.NewReaderSize(r, maxLine)
	if order, ok := utf16(br); ok {
		return nil, utf16Error(file, order)
	}
	for {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			p.lineNo++
			p.errs = append(p.errs, lineErr(file, p.lineNo, "line is longer than %d bytes", maxLine))
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err == nil {
				continue
			}
			b = nil
		}
		if len(b) > 0 {
			p.lineNo++
			p.line(b)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return p.entries(), fmt.Errorf("read manifest %s after line %d: %w", file, p.lineNo, err)
		}
	}
	if len(p.errs) > 0 {
		return p.entries(), p.errs
	}
	return p.entries(), nil
}

// entries returns all entries collected, in order, in one slice.
func (p *parser) entries() []Entry {
	if len(p.full) == 0 {
		return p.out
	}
	all := make([]Entry, 0, p.total+len(p.out))
	for _, c := range p.full {
		all = append(all, c...)
	}
	return append(all, p.out...)
}

// parser holds the state of one Parse call.
type parser struct {
	file   string
	opts   Options
	lineNo int
	out    []Entry   // entries of the current chunk
	full   [][]Entry // earlier, full chunks
	total  int       // entries in full
	errs   Errors
	buf    []byte // scratch space for building URLs
}

// isSpace reports whether c separates fields on a line.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// line parses one line, b, which may end in "\n".
func (p *parser) line(b []byte) {
	if p.lineNo == 1 {
		b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	}
	if i := bytes.IndexByte(b, '#'); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimRight(b, "\n")
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return
	}
	s := string(b)
	tok, rest := nextToken(s)
	f, ok := p.fields(rest)
	p.entry(tok, f, ok)
}

// nextToken splits s, which starts with a non-space, into its first token
// and the rest.
func nextToken(s string) (tok, rest string) {
	i := 0
	for i < len(s) && !isSpace(s[i]) {
		i++
	}
	tok, rest = s[:i], s[i:]
	for len(rest) > 0 && isSpace(rest[0]) {
		rest = rest[1:]
	}
	return tok, rest
}

// expect holds the key=value fields of one line.
type expect struct {
	size   int64
	sha256 string
	md5    string
	n      int // number of fields
}

// fields parses the key=value fields in s, recording an error for each bad
// one. ok is false if any was bad.
func (p *parser) fields(s string) (f expect, ok bool) {
	f.size = -1
	ok = true
	seen := 0 // bit set of keys seen
	for s != "" {
		var kv string
		kv, s = nextToken(s)
		f.n++
		key, val, found := strings.Cut(kv, "=")
		if !found {
			p.errs = append(p.errs, lineErr(p.file, p.lineNo, "field %s is not key=value; fields are sha256=<64 hex>, md5=<32 hex> and size=<bytes>", quote(kv)))
			ok = false
			continue
		}
		lk := strings.ToLower(key)
		bit := 0
		var msg string
		switch lk {
		case "sha256":
			bit = 1
			f.sha256, msg = parseHex(val, 64)
		case "md5":
			bit = 2
			f.md5, msg = parseHex(val, 32)
		case "size":
			bit = 4
			f.size, msg = parseSize(val)
		default:
			p.errs = append(p.errs, lineErr(p.file, p.lineNo, "unknown field %s; fields are sha256=, md5= and size=", quote(key)))
			ok = false
			continue
		}
		if seen&bit != 0 {
			p.errs = append(p.errs, lineErr(p.file, p.lineNo, "field %s given twice", lk))
			ok = false
			continue
		}
		seen |= bit
		if msg != "" {
			p.errs = append(p.errs, lineErr(p.file, p.lineNo, "field %s: %s", lk, msg))
			ok = false
		}
	}
	return f, ok
}

// parseHex checks that v is n hex digits and returns it in lower case.
func parseHex(v string, n int) (string, string) {
	if len(v) != n {
		return "", fmt.Sprintf("%s has %d characters, want %d hex digits", quote(v), len(v), n)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", fmt.Sprintf("%s is not hex: %q at position %d", quote(v), c, i+1)
		}
	}
	return strings.ToLower(v), ""
}

// parseSize parses a non-negative decimal byte count.
func parseSize(v string) (int64, string) {
	if v == "" {
		return -1, "empty; want a byte count such as size=123456"
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return -1, quote(v) + " is not a non-negative decimal byte count"
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return -1, quote(v) + " is too large"
	}
	return n, ""
}

// accepted lists the entry forms, for error messages.
const accepted = "accepted forms: tile id (N00E006), product name (ESA_WorldCover_10m_2021_v200_N00E006_Map), " +
	"WorldCover path (WORLDCOVER/ESA_WORLDCOVER_10M_2021_V200/MAP/...) or http(s) URL"

// entry parses the entry token tok and appends its entries, with the line's
// fields f, unless tok or the fields (fieldsOK false) are wrong.
func (p *parser) entry(tok string, f expect, fieldsOK bool) {
	fail := func(format string, args ...any) {
		p.errs = append(p.errs, lineErr(p.file, p.lineNo, format, args...))
	}
	switch {
	case hasPrefixFold(tok, "http://") || hasPrefixFold(tok, "https://"):
		name, msg := urlName(tok)
		if msg != "" {
			fail("%s", msg)
			return
		}
		if fieldsOK {
			p.add(tok, tok, name, f)
		}
	case strings.Contains(tok, "://"):
		fail("URL scheme %s is not supported: only http and https", quote(tok[:strings.Index(tok, "://")]))
	case strings.ContainsRune(tok, '\\'):
		fail("%s contains a backslash: paths use '/'; %s", quote(tok), accepted)
	case strings.HasPrefix(tok, "/"):
		fail("%s is an absolute file path, which is not accepted; %s", quote(tok), accepted)
	case strings.Contains(tok, "/"):
		p.path(tok, f, fieldsOK)
	case hasPrefixFold(tok, "ESA_WorldCover"):
		pr, msg := parseProduct(tok)
		if msg != "" {
			fail("%s", msg)
			return
		}
		if fieldsOK {
			p.addProduct(tok, pr, f)
		}
	case looksLikeTile(tok):
		t, msg := parseTile(tok)
		if msg != "" {
			fail("%s", msg)
			return
		}
		if n := len(p.opts.Years) * len(p.opts.Layers); f.n > 0 && n > 1 {
			fail("tile id %s expands to %d files (years × layers), so its sha256/md5/size fields are ambiguous; list the product names instead", tok, n)
			return
		}
		if !fieldsOK {
			return
		}
		for _, y := range p.opts.Years {
			for _, l := range p.opts.Layers {
				p.addProduct(tok, product{y, t, l}, f)
			}
		}
	default:
		fail("%s is not a manifest entry; %s", quote(tok), accepted)
	}
}

// path parses a path under the download service, which must be the canonical
// path of a WorldCover product.
func (p *parser) path(tok string, f expect, fieldsOK bool) {
	if !hasPrefixFold(tok, "WORLDCOVER/") {
		p.errs = append(p.errs, lineErr(p.file, p.lineNo, "relative path %s is not a WorldCover path; %s", quote(tok), accepted))
		return
	}
	pr, msg := parseProduct(tok[strings.LastIndexByte(tok, '/')+1:])
	if msg != "" {
		p.errs = append(p.errs, lineErr(p.file, p.lineNo, "WorldCover path: %s", msg))
		return
	}
	if want := string(pr.appendPath(nil)); tok != want {
		p.errs = append(p.errs, lineErr(p.file, p.lineNo, "WorldCover path %s is not the canonical path of %s, which is %s", quote(tok), pr.name(), want))
		return
	}
	if fieldsOK {
		p.addProduct(tok, pr, f)
	}
}

// addProduct appends the entry for product pr.
func (p *parser) addProduct(raw string, pr product, f expect) {
	b := append(p.buf[:0], p.opts.BaseURL...)
	b = append(b, '/')
	b = pr.appendPath(b)
	p.buf = b
	u := string(b)
	name := u[strings.LastIndexByte(u, '/')+1:]
	p.add(raw, u, name, f)
	p.out[len(p.out)-1].Product = name[:len(name)-len(".tif")]
}

// maxChunk is the most entries Parse collects in one chunk. Entries go into
// chunks copied once into the result, rather than into one slice that
// append copies each time it grows: a million-line manifest then costs its
// entries and little garbage.
const maxChunk = 1 << 14

// add appends one entry.
func (p *parser) add(raw, u, name string, f expect) {
	if len(p.out) == cap(p.out) && len(p.out) > 0 {
		p.full = append(p.full, p.out)
		p.total += len(p.out)
		p.out = make([]Entry, 0, min(2*len(p.out), maxChunk))
	}
	p.out = append(p.out, Entry{
		Raw:    raw,
		Source: Source{File: p.file, Line: p.lineNo},
		URL:    u,
		Name:   name,
		Size:   f.size,
		SHA256: f.sha256,
		MD5:    f.md5,
	})
}

// hasPrefixFold reports whether s starts with prefix, ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// urlName checks the absolute http(s) URL s and returns the output file name
// it implies: its last path segment, percent-decoded. Messages never repeat
// the URL, which may carry a signature or token.
func urlName(s string) (name, msg string) {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && !strings.Contains(s, "@") {
			return "", "URL is not valid: " + ue.Err.Error()
		}
		return "", "URL is not valid"
	}
	if u.User != nil {
		return "", "URL carries a user name or password: credentials never belong in a manifest"
	}
	if u.Hostname() == "" {
		return "", "URL has no host"
	}
	// Take the path from s itself rather than from u, so that an escaped
	// "/" (%2F) stays inside its segment.
	rest := s[strings.Index(s, "://")+3:]
	if i := strings.IndexAny(rest, "/?"); i < 0 || rest[i] == '?' {
		return "", "URL names no file: it has no path"
	} else {
		rest = rest[i:]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	segs := strings.Split(rest[1:], "/")
	for _, seg := range segs {
		d, err := url.PathUnescape(seg)
		if err != nil {
			return "", "URL path has a bad %-escape"
		}
		if d == "." || d == ".." {
			return "", fmt.Sprintf("URL path has a %s segment (after percent-decoding); wcdl does not follow dot segments", quote(d))
		}
		name = d
	}
	if msg := checkName(name); msg != "" {
		return "", "URL " + msg
	}
	return name, ""
}

// maxName is the longest name, in bytes, that common file systems accept
// for one file (NAME_MAX).
const maxName = 255

// maxEntryName is the longest output file name: wcdl adds its longest
// suffix to it while the file is downloaded.
var maxEntryName = maxName - len(reservedSuffixes[len(reservedSuffixes)-1])

// checkName returns why name is not a safe output file name, or "".
func checkName(name string) string {
	switch {
	case name == "":
		return "names no file: its path is empty or ends in '/'"
	case name == "." || name == "..":
		return "names file " + quote(name) + ", which would leave the output folder"
	case strings.ContainsAny(name, `/\`):
		return "names file " + quote(name) + ", which has a path separator (after percent-decoding)"
	case len(name) >= 2 && name[1] == ':' && ('a' <= name[0]|0x20 && name[0]|0x20 <= 'z'):
		return "names file " + quote(name) + ", which starts with a drive letter"
	case len(name) > maxEntryName:
		return fmt.Sprintf("names a file whose name is %d bytes long; file systems allow %d, and wcdl adds up to %d (%s) while downloading it, so the longest name is %d",
			len(name), maxName, maxName-maxEntryName, reservedSuffixes[len(reservedSuffixes)-1], maxEntryName)
	case !utf8.ValidString(name):
		return "names a file whose name is not valid UTF-8"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "names file " + quote(name) + ", which has a control character"
	case strings.IndexFunc(name, isInvisible) >= 0:
		return fmt.Sprintf("names file %s, which has the invisible character %U (a bidirectional override, zero-width or other format character can disguise a name)", quote(name), firstRune(name, isInvisible))
	}
	for _, s := range reservedSuffixes {
		if len(name) >= len(s) && strings.EqualFold(name[len(name)-len(s):], s) {
			return "names file " + quote(name) + ", which ends in " + s + ", a name wcdl keeps for the partial files of other entries (" + strings.Join(reservedSuffixes, ", ") + ")"
		}
	}
	return ""
}

// reservedSuffixes end the names of the files wcdl keeps beside a file
// while downloading it: the part, its resume metadata and the new
// metadata written beside it before it replaces the old one (downloader:
// <name>.part, <name>.part.meta, <name>.part.meta.new). No entry may take
// such a name, ignoring case, or it could overwrite or remove another
// entry's files. None of them ends in another, so two entries whose names
// differ (ignoring case) never share a name wcdl makes (see
// FuzzPlanNamesNeverCollide). Longest last.
var reservedSuffixes = []string{".part", ".part.meta", ".part.meta.new"}

// isInvisible reports format characters (Unicode category Cf: bidirectional
// overrides such as U+202E, zero-width spaces and joiners) and the line and
// paragraph separators.
func isInvisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r)
}

// firstRune returns the first rune of s for which f holds.
func firstRune(s string, f func(rune) bool) rune {
	for _, r := range s {
		if f(r) {
			return r
		}
	}
	return 0
}
