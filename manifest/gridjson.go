package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Where a JSON error in a grid file is: ParseGrid reads the file as a
// stream and keeps only the bytes since its last mark.

// jsonError turns an error of the decoder into an *Error with the line
// and column where it happened, or a read error into one that says so.
// The decoder's offsets count from the start of a value, not of the file:
// a syntax error is found again by scanning the bytes kept from the last
// mark, a type error by decoding the value again into v, of the type
// decoded.
func (p *gridParser) jsonError(err error, v any) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var off int64 // as json.Unmarshal's errors count: the offending byte read
	kept := p.in.from(p.mark)
	switch {
	case errors.As(err, &te) && v != nil:
		// The value follows the mark, after blanks and a comma or colon.
		rest := bytes.TrimLeft(kept, " \t\r\n")
		if len(rest) > 0 && (rest[0] == ',' || rest[0] == ':') {
			rest = bytes.TrimLeft(rest[1:], " \t\r\n")
		}
		start := p.mark + int64(len(kept)-len(rest))
		off = start + 1
		if err := json.NewDecoder(bytes.NewReader(rest)).Decode(v); errors.As(err, &te) {
			off = start + te.Offset
		}
		field := p.key
		if te.Field != "" {
			field += "." + te.Field
		}
		err = fmt.Errorf("member %s has the wrong type: a JSON %s", quote(field), te.Value)
	case errors.As(err, &se), err == io.EOF, err == io.ErrUnexpectedEOF:
		data := append([]byte(p.prefix), kept...)
		if !errors.As(json.Unmarshal(data, new(json.RawMessage)), &se) {
			return &Error{File: p.name, Msg: "invalid JSON: " + err.Error()}
		}
		off = p.mark + se.Offset - int64(len(p.prefix))
		err = se
	default:
		return &Error{File: p.name, Msg: "reading the grid: " + err.Error()}
	}
	line, col := p.in.pos(off - 1)
	return &Error{File: p.name, Line: int(line), Msg: fmt.Sprintf("column %d: invalid JSON: %v", col, err)}
}

// A posReader passes reads through and keeps the bytes from a mark on, so
// that it can tell the line and column of any offset past the mark.
type posReader struct {
	r      io.Reader
	buf    []byte // bytes read from offset base on
	base   int64
	lines  int64 // newlines before base
	lastNL int64 // offset of the last newline before base, or -1
}

func (p *posReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.buf = append(p.buf, b[:n]...)
	return n, err
}

// forget lets the bytes before off go. It copies the rest down only when
// it drops at least as many bytes as it keeps, so that each byte is
// copied a bounded number of times.
func (p *posReader) forget(off int64) {
	k := off - p.base
	if k <= 0 || k < int64(len(p.buf))-k {
		return
	}
	k = min(k, int64(len(p.buf)))
	drop := p.buf[:k]
	p.lines += int64(bytes.Count(drop, []byte{'\n'}))
	if i := bytes.LastIndexByte(drop, '\n'); i >= 0 {
		p.lastNL = p.base + int64(i)
	}
	p.buf = p.buf[:copy(p.buf, p.buf[k:])]
	p.base += k
}

// from returns the bytes kept from off on.
func (p *posReader) from(off int64) []byte {
	return p.buf[min(max(0, off-p.base), int64(len(p.buf))):]
}

// pos returns the 1-based line and column of the byte at off.
func (p *posReader) pos(off int64) (line, col int64) {
	rel := p.buf[:min(max(0, off-p.base), int64(len(p.buf)))]
	line = 1 + p.lines + int64(bytes.Count(rel, []byte{'\n'}))
	if i := bytes.LastIndexByte(rel, '\n'); i >= 0 {
		return line, int64(len(rel) - i)
	}
	return line, off - p.lastNL
}
