package output

import "errors"

// ErrAppendOnly reports a write at another offset than the end of the
// bytes held, to a location without Features.WriteAt.
var ErrAppendOnly = errors.New("this output location only appends")

// ErrNoReadBack reports a read of a file whose location cannot read back
// what was written (no Features.ReadBack).
var ErrNoReadBack = errors.New("this output location cannot read back a file being written")
