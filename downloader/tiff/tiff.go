// Package tiff checks the structure of classic TIFF and BigTIFF files, so a
// downloader can tell a complete GeoTIFF from a truncated one when no checksum
// is published, and generates small valid TIFF headers for test servers.
package tiff

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrNotTIFF reports a file that does not start with a TIFF or BigTIFF
// header, such as an HTML page served in place of an image.
var ErrNotTIFF = errors.New("not a TIFF file")

// ErrTruncated reports a file that ends before a part its header or image
// directories point to: the header itself, a directory, an array of values,
// or a strip or tile.
var ErrTruncated = errors.New("TIFF file is truncated")

// ErrMalformed reports a file with a TIFF header whose directories are
// inconsistent: a loop in the directory chain, an implausible entry count, a
// missing or mismatched strip or tile table, a value of the wrong type, or
// directories and tables that overlap so much that checking them would read
// the file many times over (see MaxReadFactor).
var ErrMalformed = errors.New("malformed TIFF file")

// Limits that keep Check fast and its memory bounded on hostile input.
const (
	// MaxIFDs is the longest chain of image directories Check follows.
	MaxIFDs = 1024
	// MaxEntries is the largest entry count Check accepts in one directory.
	MaxEntries = 4096
	// MaxReadFactor and ReadSlack bound the bytes Check reads from a file
	// of size bytes to MaxReadFactor*size + ReadSlack. A file written by
	// any TIFF library stores each directory and table once, so its
	// structure is read in less than size bytes; one whose directories
	// share or overlap their tables would otherwise make Check read the
	// file up to MaxIFDs times. Identical tables shared by several
	// directories are checked once and read once.
	MaxReadFactor = 2
	ReadSlack     = 64 << 10
)

// TIFF tags and field types Check reads.
const (
	tagStripOffsets    = 273
	tagStripByteCounts = 279
	tagTileOffsets     = 324
	tagTileByteCounts  = 325

	typeShort = 3
	typeLong  = 4
	typeLong8 = 16
)

// A checkError is what Check returns: a message that says what is wrong and
// where, wrapping one of the sentinel errors.
type checkError struct {
	msg string
	err error
}

func (e *checkError) Error() string { return "tiff: " + e.msg }
func (e *checkError) Unwrap() error { return e.err }

func fail(sentinel error, format string, args ...any) error {
	return &checkError{msg: fmt.Sprintf(format, args...), err: sentinel}
}

// format describes the layout of a classic TIFF or a BigTIFF.
type format struct {
	bo        binary.ByteOrder
	big       bool  // BigTIFF
	countLen  int64 // bytes of a directory's entry count
	entryLen  int64 // bytes of one directory entry
	valueLen  int64 // bytes of an entry's inline value or offset field
	offsetLen int64 // bytes of the next-directory offset
}

func (f *format) uint(b []byte) uint64 {
	if len(b) == 8 {
		return f.bo.Uint64(b)
	}
	if len(b) == 2 {
		return uint64(f.bo.Uint16(b))
	}
	return uint64(f.bo.Uint32(b))
}

// Check reports whether r holds a structurally complete TIFF or BigTIFF file
// of size bytes: its header, every image directory in the chain, and every
// strip or tile those directories point to lie inside the file.
//
// Check reads only the header, the directories and their offset and byte
// count tables, never the image data, so it takes microseconds even for a
// file of hundreds of megabytes, and it reads at most MaxReadFactor*size +
// ReadSlack bytes whatever the file holds. A read error from r, or r ending
// before size, is reported as ErrTruncated. If ctx ends, Check returns
// ctx.Err() at its next read. Every other error wraps ErrNotTIFF or
// ErrMalformed and says at which byte offset the problem was found.
func Check(ctx context.Context, r io.ReaderAt, size int64) error {
	if size < 0 {
		return fail(ErrTruncated, "negative file size %d", size)
	}
	c := &checker{ctx: ctx, r: r, size: size, budget: MaxReadFactor*size + ReadSlack}
	return c.check()
}

// checker is the state of one Check. It lives for one call, so it holds
// that call's ctx.
type checker struct {
	ctx    context.Context
	r      io.ReaderAt
	size   int64
	f      format
	budget int64                // bytes Check may still read
	done   map[[2]tableKey]bool // strip or tile table pairs already checked
	buf    [64]byte
}

// take charges n bytes of reading to the budget, and stops the check if ctx
// has ended.
func (c *checker) take(n int64, what string) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	if n > c.budget {
		limit := MaxReadFactor*c.size + ReadSlack
		return fail(ErrMalformed, "reading %s would take the check past %d bytes of reads, %d times the file's %d bytes and %d more: the image directories share or overlap their tables",
			what, limit, MaxReadFactor, c.size, ReadSlack)
	}
	c.budget -= n
	return nil
}

// read reads n bytes at off into a buffer that is valid until the next read.
// n is at most len(c.buf).
func (c *checker) read(off, n int64, what string) ([]byte, error) {
	if off < 0 || off > c.size || n > c.size-off {
		return nil, fail(ErrTruncated, "%s at byte %d needs %d bytes, beyond the file's %d bytes", what, off, n, c.size)
	}
	if err := c.take(n, what); err != nil {
		return nil, err
	}
	b := c.buf[:n]
	if err := readFull(c.r, b, off); err != nil {
		return nil, &checkError{msg: fmt.Sprintf("reading %s at byte %d: %v", what, off, err), err: ErrTruncated}
	}
	return b, nil
}

func (c *checker) check() error {
	if err := c.header(); err != nil {
		return err
	}
	var first []byte
	var err error
	if c.f.big {
		first, err = c.read(8, 8, "first directory offset")
	} else {
		first, err = c.read(4, 4, "first directory offset")
	}
	if err != nil {
		return err
	}
	next := c.f.uint(first)
	if next == 0 {
		return fail(ErrMalformed, "header at byte 0 points to no image directory")
	}
	seen := make(map[uint64]bool)
	for i := 0; next != 0; i++ {
		if i == MaxIFDs {
			return fail(ErrMalformed, "more than %d image directories", MaxIFDs)
		}
		if seen[next] {
			return fail(ErrMalformed, "image directory %d at byte %d loops back to an earlier directory", i, next)
		}
		seen[next] = true
		if next > uint64(c.size) {
			return fail(ErrTruncated, "image directory %d starts at byte %d, beyond the file's %d bytes", i, next, c.size)
		}
		next, err = c.ifd(i, int64(next))
		if err != nil {
			return err
		}
	}
	return nil
}

// header reads the byte order and version and sets c.f.
func (c *checker) header() error {
	n := min(c.size, 16)
	if err := c.take(n, "the header"); err != nil {
		return err
	}
	b := c.buf[:n]
	if err := readFull(c.r, b, 0); err != nil {
		return &checkError{msg: fmt.Sprintf("reading header: %v", err), err: ErrTruncated}
	}
	if n < 4 {
		// Too short to tell: a prefix of a TIFF header is truncated,
		// anything else is not a TIFF.
		for _, magic := range [][]byte{[]byte("II*\x00"), []byte("MM\x00*"), []byte("II+\x00"), []byte("MM\x00+")} {
			if string(b) == string(magic[:n]) {
				return fail(ErrTruncated, "file of %d bytes ends inside the 8-byte header", n)
			}
		}
		return fail(ErrNotTIFF, "file of %d bytes does not start with a TIFF header", n)
	}
	switch string(b[:2]) {
	case "II":
		c.f.bo = binary.LittleEndian
	case "MM":
		c.f.bo = binary.BigEndian
	default:
		return fail(ErrNotTIFF, "file starts with %q, not a TIFF byte order mark", b[:4])
	}
	switch c.f.bo.Uint16(b[2:4]) {
	case 42:
		c.f.countLen, c.f.entryLen, c.f.valueLen, c.f.offsetLen = 2, 12, 4, 4
		if n < 8 {
			return fail(ErrTruncated, "file of %d bytes ends inside the 8-byte header", n)
		}
	case 43:
		c.f.big = true
		c.f.countLen, c.f.entryLen, c.f.valueLen, c.f.offsetLen = 8, 20, 8, 8
		if n < 16 {
			return fail(ErrTruncated, "file of %d bytes ends inside the 16-byte BigTIFF header", n)
		}
		if c.f.bo.Uint16(b[4:6]) != 8 || c.f.bo.Uint16(b[6:8]) != 0 {
			return fail(ErrMalformed, "BigTIFF header declares offset size %d, want 8", c.f.bo.Uint16(b[4:6]))
		}
	default:
		return fail(ErrNotTIFF, "file starts with %q, not a TIFF version", b[:4])
	}
	return nil
}

// table is a strip or tile offsets or byte counts entry of a directory.
type table struct {
	found bool
	typ   uint16
	count uint64
	field int64 // offset of the entry's value field
	at    int64 // offset of the values: field if inline, else read from it
}

// tableKey identifies the values of a table: two directories whose offsets
// and byte counts tables have equal keys list the same strips or tiles.
type tableKey struct {
	typ   uint16
	count uint64
	at    int64
}

// ifd checks image directory i at off and returns the offset of the next.
func (c *checker) ifd(i int, off int64) (uint64, error) {
	b, err := c.read(off, c.f.countLen, fmt.Sprintf("entry count of image directory %d", i))
	if err != nil {
		return 0, err
	}
	n := c.f.uint(b)
	if n == 0 || n > MaxEntries {
		return 0, fail(ErrMalformed, "image directory %d at byte %d has %d entries", i, off, n)
	}
	end := off + c.f.countLen + int64(n)*c.f.entryLen
	if end+c.f.offsetLen > c.size {
		return 0, fail(ErrTruncated, "image directory %d at byte %d ends at byte %d, beyond the file's %d bytes", i, off, end+c.f.offsetLen, c.size)
	}
	// One read for the entries and the next-directory offset.
	dir := make([]byte, end+c.f.offsetLen-off-c.f.countLen)
	if err := c.take(int64(len(dir)), fmt.Sprintf("image directory %d at byte %d", i, off)); err != nil {
		return 0, err
	}
	if err := readFull(c.r, dir, off+c.f.countLen); err != nil {
		return 0, &checkError{msg: fmt.Sprintf("reading image directory %d at byte %d: %v", i, off, err), err: ErrTruncated}
	}
	var stripOff, stripLen, tileOff, tileLen table
	for k := range int64(n) {
		b := dir[k*c.f.entryLen : (k+1)*c.f.entryLen]
		var t *table
		switch c.f.bo.Uint16(b[0:2]) {
		case tagStripOffsets:
			t = &stripOff
		case tagStripByteCounts:
			t = &stripLen
		case tagTileOffsets:
			t = &tileOff
		case tagTileByteCounts:
			t = &tileLen
		default:
			continue
		}
		t.found = true
		t.typ = c.f.bo.Uint16(b[2:4])
		t.count = c.f.uint(b[4 : 4+c.f.valueLen])
		t.field = off + c.f.countLen + k*c.f.entryLen + 4 + c.f.valueLen
	}
	switch {
	case tileOff.found || tileLen.found:
		err = c.pieces(i, "tile", tileOff, tileLen)
	case stripOff.found || stripLen.found:
		err = c.pieces(i, "strip", stripOff, stripLen)
	default:
		err = fail(ErrMalformed, "image directory %d at byte %d has neither strip nor tile offsets", i, off)
	}
	if err != nil {
		return 0, err
	}
	return c.f.uint(dir[len(dir)-int(c.f.offsetLen):]), nil
}

// pieces checks that every strip or tile of image directory i lies inside
// the file.
func (c *checker) pieces(i int, kind string, offs, lens table) error {
	where := ""
	if i > 0 {
		where = fmt.Sprintf(" of image %d", i)
	}
	switch {
	case !offs.found:
		return fail(ErrMalformed, "image directory %d has %s byte counts but no %s offsets", i, kind, kind)
	case !lens.found:
		return fail(ErrMalformed, "image directory %d has %s offsets but no %s byte counts", i, kind, kind)
	case offs.count != lens.count:
		return fail(ErrMalformed, "image directory %d has %d %s offsets but %d %s byte counts", i, offs.count, kind, lens.count, kind)
	case offs.count == 0:
		return fail(ErrMalformed, "image directory %d has no %ss", i, kind)
	}
	ov, err := c.values(i, kind+" offsets", &offs)
	if err != nil {
		return err
	}
	lv, err := c.values(i, kind+" byte counts", &lens)
	if err != nil {
		return err
	}
	// Directories of one file may point to the same tables (a crafted file
	// can make a thousand do so): those are checked and read once.
	key := [2]tableKey{{offs.typ, offs.count, offs.at}, {lens.typ, lens.count, lens.at}}
	if c.done[key] {
		return nil
	}
	if c.done == nil {
		c.done = make(map[[2]tableKey]bool)
	}
	c.done[key] = true
	if err := c.take(ov.left+lv.left, fmt.Sprintf("the %s tables of image directory %d", kind, i)); err != nil {
		return err
	}
	for k := uint64(0); k < offs.count; k++ {
		o, err := ov.next()
		if err != nil {
			return err
		}
		l, err := lv.next()
		if err != nil {
			return err
		}
		if o > uint64(c.size) || l > uint64(c.size)-o {
			if o > uint64(c.size) {
				return fail(ErrTruncated, "%s %d%s starts at byte %d, beyond the file's %d bytes", kind, k, where, o, c.size)
			}
			return fail(ErrTruncated, "%s %d%s ends at byte %d, beyond the file's %d bytes", kind, k, where, o+l, c.size)
		}
	}
	return nil
}

// values returns a reader of the values of t, inline or out of line, and
// sets t.at.
func (c *checker) values(i int, what string, t *table) (*valueReader, error) {
	var width int64
	switch t.typ {
	case typeShort:
		width = 2
	case typeLong:
		width = 4
	case typeLong8:
		width = 8
	default:
		return nil, fail(ErrMalformed, "image directory %d has %s of type %d, want SHORT, LONG or LONG8", i, what, t.typ)
	}
	if t.count > uint64(c.size)/uint64(width) {
		return nil, fail(ErrTruncated, "image directory %d lists %d %s, more than the file's %d bytes can hold", i, t.count, what, c.size)
	}
	total := int64(t.count) * width
	v := &valueReader{c: c, width: width, what: what, left: total}
	if total <= c.f.valueLen {
		v.off = t.field
	} else {
		b, err := c.read(t.field, c.f.valueLen, what+" offset")
		if err != nil {
			return nil, err
		}
		v.off = int64(c.f.uint(b))
		if v.off < 0 || v.off > c.size || total > c.size-v.off {
			return nil, fail(ErrTruncated, "image directory %d has %s at bytes %d to %d, beyond the file's %d bytes", i, what, c.f.uint(b), c.f.uint(b)+uint64(total), c.size)
		}
	}
	t.at = v.off
	return v, nil
}

// A valueReader reads an array of integers through a fixed-size buffer, so
// checking a table of a million tiles needs no more memory than one of ten.
type valueReader struct {
	c     *checker
	width int64
	what  string
	off   int64 // file offset of buf[len(buf)]
	left  int64 // bytes not yet read into buf
	buf   []byte
	store [4096]byte
}

func (v *valueReader) next() (uint64, error) {
	if len(v.buf) == 0 {
		n := min(v.left, int64(len(v.store)))
		if n == 0 {
			return 0, fail(ErrMalformed, "%s ran out of values", v.what)
		}
		if err := v.c.ctx.Err(); err != nil {
			return 0, err
		}
		v.buf = v.store[:n]
		if err := readFull(v.c.r, v.buf, v.off); err != nil {
			return 0, &checkError{msg: fmt.Sprintf("reading %s at byte %d: %v", v.what, v.off, err), err: ErrTruncated}
		}
		v.off += n
		v.left -= n
	}
	x := v.c.f.uint(v.buf[:v.width])
	v.buf = v.buf[v.width:]
	return x, nil
}

// readFull reads exactly len(b) bytes at off. Unlike a bare ReadAt it
// accepts io.EOF alongside a full read, as io.ReaderAt allows.
func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}
