package downloader

import (
	"mime"
	"path/filepath"
	"strings"
)

// sniffLen is how many leading bytes of a body are inspected for a web page.
const sniffLen = 512

// expectsBinary reports whether the entry is a binary file, for which a web
// page or JSON document is a sign of an error page.
func (j *job) expectsBinary() bool {
	switch strings.ToLower(filepath.Ext(j.e.Name)) {
	case ".html", ".htm", ".json", ".geojson", ".xml", ".txt", ".csv":
		return false
	}
	return true
}

// isPageType reports Content-Types of web pages and JSON documents.
func isPageType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "text/html" || mt == "application/xhtml+xml" || mt == "application/json" ||
		strings.HasSuffix(mt, "+json")
}

// looksLikePage reports a body that starts like an HTML or JSON document.
func looksLikePage(b []byte) bool {
	s := strings.TrimLeft(strings.TrimPrefix(string(b), "\ufeff"), " \t\r\n")
	ls := strings.ToLower(s[:min(len(s), 16)])
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body", "<!--", "<?xml"} {
		if strings.HasPrefix(ls, p) {
			return true
		}
	}
	if len(s) < 2 || (s[0] != '{' && s[0] != '[') {
		return false
	}
	t := strings.TrimLeft(s[1:], " \t\r\n")
	return t != "" && (t[0] == '"' || t[0] == '}' || t[0] == '{' || t[0] == ']')
}

// printable returns the first n bytes of b with control bytes replaced.
func printable(b []byte, n int) string {
	r := []rune(string(b[:min(len(b), n)]))
	for i, c := range r {
		if c < 0x20 || c == 0x7f || c == '\ufffd' {
			r[i] = '.'
		}
	}
	return string(r)
}
