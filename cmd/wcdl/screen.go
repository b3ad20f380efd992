package main

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// A screen is standard error shared by the progress bar and every line
// wcdl writes (results, warnings, log records). The bar redraws its own
// line without ending it; a line written while the bar is on screen first
// clears the bar, then is written, then the bar is drawn again below it,
// so that no line is ever glued to the bar.
type screen struct {
	mu sync.Mutex
	w  io.Writer
	// bar is what the bar left on the current line, after its last
	// carriage return; empty when the line holds no bar.
	bar []byte
}

func newScreen(w io.Writer) *screen { return &screen{w: w} }

// Write writes whole lines, clearing the bar first and drawing it again
// after.
func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	drawn := len(bytes.TrimSpace(s.bar)) > 0
	if drawn {
		if _, err := io.WriteString(s.w, "\r"+strings.Repeat(" ", utf8.RuneCount(s.bar))+"\r"); err != nil {
			return 0, err
		}
	}
	n, err := s.w.Write(p)
	if err == nil && drawn && bytes.HasSuffix(p, []byte{'\n'}) {
		_, err = s.w.Write(s.bar)
	}
	return n, err
}

// barWriter returns the writer the bar draws with.
func (s *screen) barWriter() io.Writer { return barWriter{s} }

type barWriter struct{ s *screen }

// Write writes the bar's output and keeps what it leaves on the line.
func (b barWriter) Write(p []byte) (int, error) {
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range p {
		switch c {
		case '\r', '\n':
			s.bar = s.bar[:0]
		default:
			s.bar = append(s.bar, c)
		}
	}
	return s.w.Write(p)
}
