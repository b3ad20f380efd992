package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// A lineHandler writes log records as wcdl's other lines read, for
// --log-format text: "wcdl: MESSAGE: key=value ...", warnings as "wcdl:
// warning: ...", and debugging detail (-v) as "wcdl: 15:04:05.000 debug:
// ..." with the time. The attributes are quoted as slog's text format
// quotes them.
type lineHandler struct {
	level slog.Leveler
	out   io.Writer
	mu    *sync.Mutex
	buf   *bytes.Buffer
	attrs slog.Handler // formats the attributes alone into buf
}

func newLineHandler(w io.Writer, level slog.Leveler) *lineHandler {
	buf := &bytes.Buffer{}
	return &lineHandler{
		level: level, out: w, mu: &sync.Mutex{}, buf: buf,
		attrs: slog.NewTextHandler(buf, &slog.HandlerOptions{
			Level: slog.LevelDebug,
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if len(groups) == 0 && (a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
					return slog.Attr{}
				}
				return a
			},
		}),
	}
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *lineHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.Reset()
	bare := slog.NewRecord(time.Time{}, r.Level, "", 0) // no time: it is not formatted
	r.Attrs(func(a slog.Attr) bool { bare.AddAttrs(a); return true })
	if err := h.attrs.Handle(ctx, bare); err != nil {
		return err
	}
	var line strings.Builder
	line.WriteString("wcdl: ")
	switch {
	case r.Level < slog.LevelInfo:
		line.WriteString(r.Time.Format("15:04:05.000") + " debug: ")
	case r.Level >= slog.LevelError:
		line.WriteString("error: ")
	case r.Level >= slog.LevelWarn:
		line.WriteString("warning: ")
	}
	line.WriteString(r.Message)
	if attrs := strings.TrimSpace(h.buf.String()); attrs != "" {
		line.WriteString(": " + attrs)
	}
	line.WriteByte('\n')
	_, err := io.WriteString(h.out, line.String())
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = h.attrs.WithAttrs(as)
	return &c
}

func (h *lineHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.attrs = h.attrs.WithGroup(name)
	return &c
}
