package manifest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// An Error is one problem with one manifest line. Its message says what is
// wrong; it never repeats a URL, which may carry a signature or token.
type Error struct {
	File string // manifest file name, or "" when the problem has no file
	Line int    // 1-based line number, or 0
	Msg  string // what is wrong
}

// Error formats the problem as "file:line: msg".
func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	case e.File != "":
		return e.File + ": " + e.Msg
	case e.Line > 0:
		return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.Msg
}

// Errors lists every problem found in a manifest or plan, in input order. Parse
// and NewPlan return an Errors value (never an empty one) so that every bad
// line is reported at once; errors.As finds it with a target of type *Errors
// as well as Errors, and each *Error through Unwrap.
type Errors []*Error

// Error lists one problem per line.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the individual problems, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// As lets errors.As fill a target of type **Errors as well as *Errors.
func (es Errors) As(target any) bool {
	if p, ok := target.(**Errors); ok {
		c := es
		*p = &c
		return true
	}
	return false
}

// lineErr is a short way to build an *Error.
func lineErr(file string, line int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// errTooComplex ends a coverage that has clipped more positions than its
// limit: an area whose long edges cross many grid cells.
var errTooComplex = errors.New("too complex to plan")
