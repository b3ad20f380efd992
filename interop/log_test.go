package interop

import (
	"io"
	"log/slog"
)

// newLogger logs everything, debug lines included, to w.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
