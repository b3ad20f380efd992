package shown

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct{ in, want, wantMessage string }{
		{"Service Unavailable", "Service Unavailable", ""},
		{"Ünïcödé … ok", "Ünïcödé … ok", ""},
		{"\x1b[2J\x1b[31mred", `\x1b[2J\x1b[31mred`, ""},
		{"tab\tand\r\nnewline", `tab\tand\r\nnewline`, "tab\\tand\\r\nnewline"},
		{"del\x7f nul\x00", `del\x7f nul\x00`, ""},
		{"c1 \u009b31m csi", `c1 \u009b31m csi`, ""},
		{"bidi \u202eevil\u202c \u2066iso\u2069 \u200fmark", `bidi \u202eevil\u202c \u2066iso\u2069 \u200fmark`, ""},
		{"zero\u200bwidth\ufeff", `zero\u200bwidth\ufeff`, ""},
		{"line\u2028para\u2029", `line\u2028para\u2029`, ""},
		{"bad \xff\xfe utf-8", `bad \xff\xfe utf-8`, ""},
		{"a real \ufffd stays", "a real \ufffd stays", ""},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
		want := tt.wantMessage
		if want == "" {
			want = tt.want
		}
		if got := Message(tt.in); got != want {
			t.Errorf("Message(%q) = %q, want %q", tt.in, got, want)
		}
	}
}

// FuzzText checks that Text leaves no hidden character and no byte that is
// not UTF-8, and changes nothing in text that has none.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "ok", "\x1b[2J", "\u202e", "\xff", "\u009b", "a\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Text(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Text(%q) = %q, not UTF-8", s, got)
		}
		if i := strings.IndexFunc(got, Hidden); i >= 0 {
			t.Fatalf("Text(%q) = %q, hidden character at %d", s, got, i)
		}
		if utf8.ValidString(s) && strings.IndexFunc(s, Hidden) < 0 && got != s {
			t.Fatalf("Text(%q) = %q, want it unchanged", s, got)
		}
	})
}

func TestURLsIn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://h.example/a/b?X-Amz-Signature=S3CR3T", "https://h.example/a/b?…"},
		{"https://user:pw@h.example/x#frag", "https://h.example/x"},
		{`Get "https://h.example/t?api_key=S3CR3T": EOF`, `Get "https://h.example/t?…": EOF`},
		{"token endpoint https://h.example/t?k=S3CR3T, then https://o.example/?s=S3CR3T.", "token endpoint https://h.example/t?…, then https://o.example/?…"},
		{"no URL here", "no URL here"},
	}
	for _, tt := range tests {
		if got := URLsIn(tt.in); got != tt.want {
			t.Errorf("URLsIn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

// TestHandler logs secrets in URLs and escape sequences through every kind
// of value, in text and in JSON: none reaches the output.
func TestHandler(t *testing.T) {
	const secret = "S3CR3T"
	u, _ := url.Parse("https://sso.example/token?api_key=" + secret)
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			var next slog.Handler = slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})
			if format == "json" {
				next = slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})
			}
			log := slog.New(NewHandler(next)).With("base", "https://h.example/?sig="+secret+"\u202e")
			log.Debug("read https://h.example/d?k="+secret+" \x1b[2J",
				"token_endpoint", "https://sso.example/t?api_key="+secret,
				"url", u,
				"err", errors.New(`Get "https://h.example/x?sig=`+secret+`": 503 `+"\x1b[31mdown\u009b0m"),
				"location", stringer("https://cdn.example/f?X-Amz-Signature="+secret),
				slog.Group("grid", "url", "https://g.example/grid.geojson?sas="+secret, "status", "200 \u202eKO"),
				"n", 3)
			log.WithGroup("g\x1b").Info("x", "y", "https://h.example/?t="+secret)
			out := b.String()
			if strings.Contains(out, secret) {
				t.Errorf("the log holds a secret:\n%s", out)
			}
			if i := strings.IndexFunc(out, func(r rune) bool { return Hidden(r) && r != '\n' }); i >= 0 {
				t.Errorf("the log holds a hidden character at %d:\n%q", i, out)
			}
			for _, want := range []string{"https://sso.example/t?…", "https://h.example/d?…", "n=3"} {
				if format == "json" {
					want = strings.Replace(want, "n=3", `"n":3`, 1)
				}
				if !strings.Contains(out, want) {
					t.Errorf("the log lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
