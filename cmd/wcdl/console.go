package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/downloader"
	"github.com/wcdl/wcdl/internal/shown"
)

// console writes wcdl's own messages to standard error: errors, warnings,
// per-file results and the summary. With --log-format text each is a line
// for people, starting "wcdl: " (results excepted); with json each is one
// JSON object on one line, like the log records, so that the stream can be
// read by a program line by line. Either way every line goes through
// package shown: whatever a server said, and wcdl quotes, reaches the
// terminal as text, never as escape sequences, and with no URL's secrets.
type console struct {
	w    io.Writer
	json *slog.Logger // nil: text

	mu      sync.Mutex
	refused map[string]bool // account/container whose SAS refusal was told
}

func newConsole(w io.Writer, jsonFormat bool) *console {
	c := &console{w: w}
	if jsonFormat {
		c.json = slog.New(shown.NewHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	return c
}

// jsonRequested reports whether args or the environment ask for JSON
// output; it lets a mistake in the flags themselves be told in the format
// asked for.
func jsonRequested(args []string, getenv func(string) string) bool {
	format := getenv(envName("log-format"))
	for i, a := range args {
		if a == "--" {
			break
		}
		switch {
		case a == "--log-format" || a == "-log-format":
			if i+1 < len(args) {
				format = args[i+1]
			}
		case strings.HasPrefix(a, "--log-format="), strings.HasPrefix(a, "-log-format="):
			_, format, _ = strings.Cut(a, "=")
		}
	}
	return format == "json"
}

// record writes one JSON object at level.
func (c *console) record(level slog.Level, msg string, attrs ...any) {
	c.json.Log(context.Background(), level, msg, attrs...)
}

// errorf tells an error that ends the run or the batch. hint, if not
// empty, is a second text line, or a "hint" field in JSON.
func (c *console) errorf(hint, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if c.json != nil {
		var attrs []any
		if hint != "" {
			attrs = append(attrs, "hint", hint)
		}
		c.record(slog.LevelError, msg, attrs...)
		return
	}
	fmt.Fprintf(c.w, "wcdl: %s\n", consoleText(msg))
	if hint != "" {
		fmt.Fprintln(c.w, consoleText(hint))
	}
}

// warn tells something worth a look that does not stop the run.
func (c *console) warn(msg string, attrs ...any) {
	if c.json != nil {
		c.record(slog.LevelWarn, msg, attrs...)
		return
	}
	fmt.Fprintf(c.w, "wcdl: warning: %s\n", consoleText(msg))
}

// say tells a sentence about the run as a whole, at level in JSON.
func (c *console) say(level slog.Level, msg string, attrs ...any) {
	if c.json != nil {
		c.record(level, msg, attrs...)
		return
	}
	fmt.Fprintf(c.w, "wcdl: %s\n", consoleText(msg))
}

// result tells how one entry ended, with the run's progress so far.
func (c *console) result(r downloader.Result, p downloader.Progress) {
	if c.json == nil {
		line := resultLine(r)
		if cre := (*auth.ContainerRefusedError)(nil); errors.As(r.Err, &cre) && !c.firstRefusal(cre) {
			line = fmt.Sprintf("failed %s: no SAS token for %s/%s (told above)", r.Entry.Name, cre.Account, cre.Container)
		}
		fmt.Fprintln(c.w, consoleText(line))
		return
	}
	level := slog.LevelInfo
	attrs := []any{
		"status", string(r.Status), "entry", downloader.RedactEntry(r.Entry.Raw), "path", r.Path,
		"bytes", r.Bytes, "size", r.Size, "attempts", r.Attempts,
		"duration_seconds", r.Duration.Seconds(),
	}
	if r.Err != nil {
		level = slog.LevelError
		attrs = append(attrs, "error", downloader.RedactText(r.Err.Error()))
	}
	attrs = append(attrs, "files_done", p.FilesDone, "files_total", p.FilesTotal,
		"bytes_done", p.BytesDone)
	c.record(level, "file", attrs...)
}

// firstRefusal reports whether e's container is told about for the first
// time: the endpoint's answer is said once, the container's other files
// only name it.
func (c *console) firstRefusal(e *auth.ContainerRefusedError) bool {
	key := e.Account + "/" + e.Container
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refused[key] {
		return false
	}
	if c.refused == nil {
		c.refused = map[string]bool{}
	}
	c.refused[key] = true
	return true
}

// summary tells what the run did, in the lines of summary.lines, or as
// one record holding every count.
func (c *console) summary(s summary) {
	if c.json == nil {
		for _, l := range s.lines() {
			fmt.Fprintln(c.w, l)
		}
		return
	}
	c.record(slog.LevelInfo, "summary",
		"entries", s.Entries, "downloaded", s.Downloaded, "skipped", s.Skipped,
		"missing", s.Missing, "failed", s.Failed, "interrupted", s.Interrupted,
		"not_started", s.NotStarted, "bytes", s.Bytes, "elapsed_seconds", s.ElapsedSeconds,
		"bytes_per_second", s.BytesPerSecond, "token_requests", s.TokenRequests)
}

// consoleText is s as the console prints it: URLs without their secrets, and
// nothing a terminal would act on but the newlines of a message of several
// lines.
func consoleText(s string) string { return shown.Message(shown.URLsIn(s)) }
