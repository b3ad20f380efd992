// Package shown makes what servers say fit to show on a terminal and in a
// log: text without the characters a terminal acts on instead of showing,
// and URLs without the parts that hold secrets.
package shown

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Hidden reports a character that a terminal acts on, or that changes
// how the text around it reads, instead of being shown: C0 and C1
// controls and DEL, format characters (bidirectional overrides and
// isolates, zero-width characters) and line and paragraph separators.
func Hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// Text returns s with every hidden character (see Hidden) and every byte
// that is not UTF-8 written as a Go escape (\x1b, \u202e), so that a
// server's reason phrase, error description or body excerpt can be
// printed without clearing the screen, recolouring it or reordering the
// line. Anything else is unchanged.
func Text(s string) string { return text(s, false) }

// Message is Text that keeps newlines, for wcdl's own messages of several
// lines whose server-supplied parts went through Text already.
func Message(s string) string { return text(s, true) }

func text(s string, keepNewlines bool) string {
	clean := func(r rune) bool { return !Hidden(r) || keepNewlines && r == '\n' }
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || !clean(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case clean(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRuneToASCII(r) // '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// URL returns raw without its user information, query and fragment, any
// of which may hold a secret (a password, a signature, an API key). A
// dropped query is marked "?…".
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = "…", false
	}
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	return u.String()
}

// urlInText finds absolute URLs in free text.
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>\x60]+`)

// URLsIn returns s with every absolute URL in it passed through URL: it is
// used on error messages and log values that may quote a URL.
func URLsIn(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, func(u string) string {
		// A URL quoted by strconv (as in url.Error) ends before the quote;
		// trailing punctuation of a sentence is not part of it.
		trail := ""
		for strings.HasSuffix(u, ":") || strings.HasSuffix(u, ",") || strings.HasSuffix(u, ";") || strings.HasSuffix(u, ")") {
			trail, u = u[len(u)-1:]+trail, u[:len(u)-1]
		}
		return URL(u) + trail
	})
}
