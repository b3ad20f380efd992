package shown

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
)

// A handler passes every record to the next handler with its message and
// its text values shown (see NewHandler).
type handler struct{ next slog.Handler }

// NewHandler returns a slog.Handler that passes records to next with every
// URL in the message and in string, error and fmt.Stringer values (in
// groups too) cut to URL, and every hidden character escaped (see Text):
// one place that keeps a URL's secrets and a server's escape sequences out
// of the log, whoever logs them.
func NewHandler(next slog.Handler) slog.Handler { return handler{next} }

func (h handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	c := slog.NewRecord(r.Time, r.Level, clean(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		c.AddAttrs(attr(a))
		return true
	})
	return h.next.Handle(ctx, c)
}

func (h handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := make([]slog.Attr, len(as))
	for i, a := range as {
		c[i] = attr(a)
	}
	return handler{h.next.WithAttrs(c)}
}

func (h handler) WithGroup(name string) slog.Handler { return handler{h.next.WithGroup(clean(name))} }

// clean is what the handler does to text.
func clean(s string) string { return Text(URLsIn(s)) }

// attr returns a with its text shown.
func attr(a slog.Attr) slog.Attr {
	a.Key = clean(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, clean(v.String()))
	case slog.KindGroup:
		g := v.Group()
		c := make([]any, len(g))
		for i, x := range g {
			c[i] = attr(x)
		}
		return slog.Group(a.Key, c...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case *url.URL:
			if x == nil {
				break
			}
			return slog.String(a.Key, Text(URL(x.String())))
		case error:
			return slog.String(a.Key, clean(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, clean(x.String()))
		case []byte:
			return slog.String(a.Key, clean(string(x)))
		}
	}
	a.Value = v
	return a
}
