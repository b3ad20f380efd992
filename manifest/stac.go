package manifest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"slices"
	"strings"
)

// maxSTAC bounds the size of a STAC manifest, which is read whole.
const maxSTAC = 256 << 20

// IsSTAC reports whether a manifest starting with head is JSON (a STAC
// ItemCollection or Item) rather than lines: its first character other than
// white space or a byte order mark is '{', which no manifest line can start
// with.
func IsSTAC(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\uFEFF"))
	head = bytes.TrimLeft(head, " \t\r\n")
	return len(head) > 0 && head[0] == '{'
}

// ParseSTAC reads a STAC ItemCollection (a FeatureCollection of Items, as
// pystac-client saves a search) or a single Item, and returns an Entry for
// each selected asset of each Item, in input order.
//
// assets names the asset keys to take from every Item that has them; a key
// that no Item has is an error (a typo, usually). With no keys, every asset whose media type is a
// GeoTIFF ("image/tiff; application=geotiff", any profile) is taken. An
// asset's href must be an absolute http(s) URL, or relative to the Item's
// "self" link. Its file:size becomes the entry's size, and its
// file:checksum, a multihash in hex, its sha256 (code 0x12, 32 bytes) or md5
// (code 0xd5, 16 bytes); checksums of other hash functions are not checked.
//
// Problems are *Errors naming the file and line (and, for invalid JSON, the
// column), the Item's id and the asset's key; they never quote an href,
// which may carry a signature.
func ParseSTAC(r io.Reader, name string, assets []string) ([]Entry, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSTAC+1))
	if err != nil {
		return nil, &Error{File: name, Msg: "reading the STAC file: " + err.Error()}
	}
	if len(data) > maxSTAC {
		return nil, &Error{File: name, Msg: fmt.Sprintf("the STAC file is larger than %d bytes", maxSTAC)}
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, jsonError(name, data, err)
	}
	s := stacParser{file: name, data: data, assets: assets}
	var top struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(data, &top)
	switch top.Type {
	case "FeatureCollection":
		features, ok := s.member(0, "features")
		if !ok {
			return nil, &Error{File: name, Line: 1, Msg: `the ItemCollection has no "features" array`}
		}
		items, err := s.elements(features)
		if err != nil {
			return nil, err
		}
		for i, it := range items {
			s.item(it, fmt.Sprintf("feature %d", i))
		}
	case "Feature":
		s.item(jsonSpan{off: s.skipSpace(0), end: int64(len(data))}, "the item")
	default:
		return nil, &Error{File: name, Line: 1, Msg: fmt.Sprintf("not a STAC Item or ItemCollection: its type is %s, not Feature or FeatureCollection", quote(top.Type))}
	}
	for _, want := range assets {
		if !slices.Contains(s.seen, want) {
			s.errs = append(s.errs, &Error{File: name, Msg: fmt.Sprintf("no item has asset %s (the items have %s)", quote(want), strings.Join(quoteAll(s.seen), ", "))})
		}
	}
	if len(s.errs) > 0 {
		return nil, s.errs
	}
	return s.out, nil
}

// stacParser holds the state of one ParseSTAC call over valid JSON.
type stacParser struct {
	file   string
	data   []byte
	assets []string
	out    []Entry
	errs   Errors
	// seen lists the asset keys of every item, in order of appearance.
	seen []string
	// newlines holds the offsets of the line ends, found once.
	newlines []int64
}

// A jsonSpan is where a JSON value lies in the data: [off, end).
type jsonSpan struct{ off, end int64 }

func (s *stacParser) raw(v jsonSpan) []byte { return s.data[v.off:v.end] }

// line returns the 1-based line of offset off.
func (s *stacParser) line(off int64) int {
	if s.newlines == nil {
		s.newlines = []int64{}
		for i, c := range s.data {
			if c == '\n' {
				s.newlines = append(s.newlines, int64(i))
			}
		}
	}
	n, _ := slices.BinarySearch(s.newlines, off)
	return 1 + n
}

// skipSpace returns the offset of the first byte at or after off that is
// not JSON white space or a comma.
func (s *stacParser) skipSpace(off int64) int64 {
	for off < int64(len(s.data)) && strings.IndexByte(" \t\r\n,:", s.data[off]) >= 0 {
		off++
	}
	return off
}

// members returns the members of the object at v, each with its jsonSpan.
func (s *stacParser) members(v jsonSpan) (keys []string, vals []jsonSpan, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(s.raw(v)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		key, _ := t.(string)
		start := s.skipSpace(v.off + dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, false
		}
		keys = append(keys, key)
		vals = append(vals, jsonSpan{start, v.off + dec.InputOffset()})
	}
	return keys, vals, true
}

// member returns the jsonSpan of member key of the object at off.
func (s *stacParser) member(off int64, key string) (jsonSpan, bool) {
	keys, vals, ok := s.members(jsonSpan{s.skipSpace(off), int64(len(s.data))})
	if !ok {
		return jsonSpan{}, false
	}
	if i := slices.Index(keys, key); i >= 0 {
		return vals[i], true
	}
	return jsonSpan{}, false
}

// elements returns the elements of the array at v.
func (s *stacParser) elements(v jsonSpan) ([]jsonSpan, error) {
	dec := json.NewDecoder(bytes.NewReader(s.raw(v)))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, &Error{File: s.file, Line: s.line(v.off), Msg: `"features" is not an array`}
	}
	var out []jsonSpan
	for dec.More() {
		start := s.skipSpace(v.off + dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, &Error{File: s.file, Line: s.line(start), Msg: "invalid JSON"}
		}
		out = append(out, jsonSpan{start, v.off + dec.InputOffset()})
	}
	return out, nil
}

// stacAsset is the part of a STAC asset wcdl uses.
type stacAsset struct {
	Href     string          `json:"href"`
	Type     string          `json:"type"`
	Checksum string          `json:"file:checksum"`
	Size     json.RawMessage `json:"file:size"`
}

// item reads the selected assets of the Item at v; what names it until its
// id is known.
func (s *stacParser) item(v jsonSpan, what string) {
	fail := func(off int64, format string, args ...any) {
		s.errs = append(s.errs, lineErr(s.file, s.line(off), "%s: %s", what, fmt.Sprintf(format, args...)))
	}
	var it struct {
		Type  string `json:"type"`
		ID    any    `json:"id"`
		Links []struct {
			Rel  string `json:"rel"`
			Href string `json:"href"`
		} `json:"links"`
	}
	if err := json.Unmarshal(s.raw(v), &it); err != nil {
		fail(v.off, "not a STAC Item: %v", jsonTypeMsg(err))
		return
	}
	if id, ok := it.ID.(string); ok && id != "" {
		what = "item " + quote(id)
	}
	if it.Type != "Feature" {
		fail(v.off, "not a STAC Item: its type is %s, not Feature", quote(it.Type))
		return
	}
	var self *url.URL
	for _, l := range it.Links {
		if l.Rel == "self" {
			if u, err := url.Parse(l.Href); err == nil && u.IsAbs() {
				self = u
			}
		}
	}
	av, ok := s.member(v.off, "assets")
	if !ok {
		fail(v.off, `it has no "assets"`)
		return
	}
	keys, vals, ok := s.members(av)
	if !ok {
		fail(av.off, `"assets" is not an object`)
		return
	}
	for _, k := range keys {
		if !slices.Contains(s.seen, k) {
			s.seen = append(s.seen, k)
		}
	}
	for i, key := range keys {
		var a stacAsset
		if err := json.Unmarshal(s.raw(vals[i]), &a); err != nil {
			fail(vals[i].off, "asset %s: %v", quote(key), jsonTypeMsg(err))
			continue
		}
		if len(s.assets) > 0 && !slices.Contains(s.assets, key) || len(s.assets) == 0 && !isGeoTIFF(a.Type) {
			continue
		}
		e, msg := s.entry(a, self, vals[i].off)
		if msg != "" {
			fail(vals[i].off, "asset %s: %s", quote(key), msg)
			continue
		}
		s.out = append(s.out, e)
	}
}

// entry makes the Entry of asset a, whose href may be relative to self.
func (s *stacParser) entry(a stacAsset, self *url.URL, off int64) (Entry, string) {
	href := a.Href
	if href == "" {
		return Entry{}, "it has no href"
	}
	if u, err := url.Parse(href); err == nil && !u.IsAbs() {
		if self == nil {
			return Entry{}, "its href is relative and the item has no absolute self link to resolve it against"
		}
		href = self.ResolveReference(u).String()
	}
	if !hasPrefixFold(href, "http://") && !hasPrefixFold(href, "https://") {
		return Entry{}, "its href is not an http or https URL"
	}
	name, msg := urlName(href)
	if msg != "" {
		return Entry{}, "href: " + msg
	}
	e := Entry{Raw: href, Source: Source{File: s.file, Line: s.line(off)}, URL: href, Name: name, Size: -1}
	if len(a.Size) > 0 && string(a.Size) != "null" {
		var n json.Number
		if a.Size[0] == '"' || json.Unmarshal(a.Size, &n) != nil {
			return Entry{}, "file:size is not a number"
		}
		size, msg := parseSize(n.String())
		if msg != "" {
			return Entry{}, "file:size: " + msg
		}
		e.Size = size
	}
	if a.Checksum != "" {
		algo, digest, msg := multihash(a.Checksum)
		switch {
		case msg != "":
			return Entry{}, "file:checksum: " + msg
		case algo == "sha256":
			e.SHA256 = digest
		case algo == "md5":
			e.MD5 = digest
		}
	}
	return e, ""
}

// multihash decodes a hex multihash: the hash function's code and the
// digest's length as unsigned varints, then the digest. It returns "sha256"
// or "md5" with the digest in lower-case hex, or algo "" for another hash
// function.
func multihash(s string) (algo, digest, msg string) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return "", "", "not a hex multihash"
	}
	code, n := uvarint(b)
	if n <= 0 {
		return "", "", "not a multihash: bad function code"
	}
	b = b[n:]
	length, n := uvarint(b)
	if n <= 0 {
		return "", "", "not a multihash: bad digest length"
	}
	b = b[n:]
	if uint64(len(b)) != length {
		return "", "", fmt.Sprintf("not a multihash: it announces a %d-byte digest and holds %d bytes", length, len(b))
	}
	switch {
	case code == 0x12 && length == 32:
		return "sha256", hex.EncodeToString(b), ""
	case code == 0xd5 && length == 16:
		return "md5", hex.EncodeToString(b), ""
	case code == 0x12 || code == 0xd5:
		return "", "", fmt.Sprintf("a %d-byte digest for hash function 0x%x, which has %d", length, code, map[uint64]int{0x12: 32, 0xd5: 16}[code])
	}
	return "", "", ""
}

// uvarint reads an unsigned varint of at most 9 bytes, as multihash uses;
// n <= 0 when b does not start with one.
func uvarint(b []byte) (v uint64, n int) {
	for i := 0; i < len(b) && i < 9; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// isGeoTIFF reports a GeoTIFF media type: image/tiff with
// application=geotiff, any profile.
func isGeoTIFF(mediaType string) bool {
	mt, params, err := mime.ParseMediaType(mediaType)
	return err == nil && mt == "image/tiff" && strings.EqualFold(params["application"], "geotiff")
}

// jsonTypeMsg says which member of a STAC object has the wrong type.
func jsonTypeMsg(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("member %s is a JSON %s", quote(te.Field), te.Value)
	}
	return err.Error()
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = quote(s)
	}
	return out
}
