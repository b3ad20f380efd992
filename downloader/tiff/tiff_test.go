package tiff

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
)

// layout describes a TIFF for build to write.
type layout struct {
	big      bool             // BigTIFF
	bo       binary.ByteOrder // byte order; little-endian if nil
	tiles    bool             // tile tags instead of strip tags
	typ      uint16           // type of the offsets and byte counts tables
	pieces   int              // strips or tiles per image
	pieceLen int              // bytes per strip or tile
	images   int              // directories in the chain; 1 if 0
}

// build writes a TIFF with the given layout: header, then per image its
// data, its out-of-line tables and its directory, so every directory comes
// after the data it points to, as in files written by GDAL.
func build(t testing.TB, l layout) []byte {
	t.Helper()
	bo := l.bo
	if bo == nil {
		bo = binary.LittleEndian
	}
	if l.images == 0 {
		l.images = 1
	}
	var b []byte
	app := bo.(binary.AppendByteOrder)
	u16 := func(v uint64) { b = app.AppendUint16(b, uint16(v)) }
	u32 := func(v uint64) { b = app.AppendUint32(b, uint32(v)) }
	u64 := func(v uint64) { b = app.AppendUint64(b, v) }
	word := u32 // offsets and counts in the header and directories
	if l.big {
		word = u64
	}
	if bo == binary.BigEndian {
		b = append(b, "MM"...)
	} else {
		b = append(b, "II"...)
	}
	if l.big {
		u16(43)
		u16(8)
		u16(0)
	} else {
		u16(42)
	}
	nextField := len(b) // where to patch the offset of the next directory
	word(0)
	patch := func(at int, v uint64) {
		if l.big {
			bo.PutUint64(b[at:], v)
		} else {
			bo.PutUint32(b[at:], uint32(v))
		}
	}
	width := map[uint16]int{typeShort: 2, typeLong: 4, typeLong8: 8}[l.typ]
	put := map[uint16]func(uint64){typeShort: u16, typeLong: u32, typeLong8: u64}[l.typ]
	valueLen := 4
	if l.big {
		valueLen = 8
	}
	offTag, lenTag := uint16(tagStripOffsets), uint16(tagStripByteCounts)
	if l.tiles {
		offTag, lenTag = tagTileOffsets, tagTileByteCounts
	}
	for range l.images {
		var offs []uint64
		for k := range l.pieces {
			offs = append(offs, uint64(len(b)))
			b = append(b, bytes.Repeat([]byte{byte(k)}, l.pieceLen)...)
		}
		// Out-of-line tables, or inline values.
		table := func(vals []uint64) (field []byte) {
			if len(vals)*width <= valueLen {
				var f []byte
				saved := b
				b = nil
				for _, v := range vals {
					put(v)
				}
				f = append(b, make([]byte, valueLen-len(b))...)
				b = saved
				return f
			}
			at := uint64(len(b))
			for _, v := range vals {
				put(v)
			}
			saved := b
			b = nil
			word(at)
			f := b
			b = saved
			return f
		}
		lens := make([]uint64, l.pieces)
		for k := range lens {
			lens[k] = uint64(l.pieceLen)
		}
		offField := table(offs)
		lenField := table(lens)
		if len(b)%2 == 1 {
			b = append(b, 0)
		}
		patch(nextField, uint64(len(b)))
		entries := []struct {
			tag   uint16
			field []byte
		}{{256, nil}, {offTag, offField}, {lenTag, lenField}}
		if l.big {
			u64(uint64(len(entries)))
		} else {
			u16(uint64(len(entries)))
		}
		for _, e := range entries {
			u16(uint64(e.tag))
			if e.field == nil { // ImageWidth, a SHORT 1
				u16(typeShort)
				word(1)
				u16(1)
				b = append(b, make([]byte, valueLen-2)...)
				continue
			}
			u16(uint64(l.typ))
			word(uint64(l.pieces))
			b = append(b, e.field...)
		}
		nextField = len(b)
		word(0)
	}
	return b
}

func mustHeader(t testing.TB, size int64) []byte {
	t.Helper()
	h, err := Header(size)
	if err != nil {
		t.Fatalf("Header(%d): %v", size, err)
	}
	return append(h, bytes.Repeat([]byte{0xAB}, int(size)-len(h))...)
}

func TestCheck(t *testing.T) {
	classic := build(t, layout{typ: typeLong, pieces: 3, pieceLen: 100})
	// A two-image file whose second image loops back to the first.
	loop := build(t, layout{typ: typeLong, pieces: 1, pieceLen: 10, images: 2})
	first := binary.LittleEndian.Uint32(loop[4:])
	loop[len(loop)-4] = byte(first) // the last next-directory offset
	loop[len(loop)-3] = byte(first >> 8)
	// The last strip's byte count grown past the end of the file.
	pastEnd := build(t, layout{typ: typeLong, pieces: 4, pieceLen: 100})
	lensAt := bytes.LastIndex(pastEnd, []byte{100, 0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 0})
	binary.LittleEndian.PutUint32(pastEnd[lensAt+12:], 1000)
	lastOff := 8 + 3*100
	// Strip offsets but no byte counts.
	noCounts := bytes.Clone(classic)
	at := bytes.Index(noCounts, binary.LittleEndian.AppendUint16(nil, tagStripByteCounts))
	binary.LittleEndian.PutUint16(noCounts[at:], 999)

	tests := []struct {
		name    string
		file    []byte
		want    error  // nil, or the sentinel the error must wrap
		wantMsg string // a part of the message
	}{
		{name: "classic strips LONG", file: classic},
		{name: "classic strips SHORT", file: build(t, layout{typ: typeShort, pieces: 5, pieceLen: 7})},
		{name: "classic one inline strip", file: build(t, layout{typ: typeLong, pieces: 1, pieceLen: 9})},
		{name: "classic two inline SHORT strips", file: build(t, layout{typ: typeShort, pieces: 2, pieceLen: 9})},
		{name: "classic tiles", file: build(t, layout{tiles: true, typ: typeLong, pieces: 4, pieceLen: 16})},
		{name: "classic three images", file: build(t, layout{typ: typeLong, pieces: 2, pieceLen: 16, images: 3})},
		{name: "big-endian classic", file: build(t, layout{bo: binary.BigEndian, typ: typeLong, pieces: 3, pieceLen: 50})},
		{name: "big-endian SHORT", file: build(t, layout{bo: binary.BigEndian, typ: typeShort, pieces: 1, pieceLen: 50})},
		{name: "BigTIFF LONG8 tiles", file: build(t, layout{big: true, tiles: true, typ: typeLong8, pieces: 6, pieceLen: 64})},
		{name: "BigTIFF one inline LONG8", file: build(t, layout{big: true, typ: typeLong8, pieces: 1, pieceLen: 64})},
		{name: "BigTIFF two inline LONG", file: build(t, layout{big: true, typ: typeLong, pieces: 2, pieceLen: 64})},
		{name: "big-endian BigTIFF", file: build(t, layout{big: true, bo: binary.BigEndian, typ: typeLong8, pieces: 3, pieceLen: 64, images: 2})},
		{name: "generated header", file: mustHeader(t, 3<<20)},
		{name: "empty file", file: nil, want: ErrTruncated, wantMsg: "ends inside the 8-byte header"},
		{name: "HTML page", file: []byte("<!DOCTYPE html><html><head><title>Sign in</title></head></html>"), want: ErrNotTIFF, wantMsg: `"<!DO"`},
		{name: "JSON error", file: []byte(`{"error":"not found"}`), want: ErrNotTIFF},
		{name: "short non-TIFF", file: []byte("<!"), want: ErrNotTIFF},
		{name: "unknown version", file: []byte("II\x2a\x01\x08\x00\x00\x00"), want: ErrNotTIFF},
		{name: "IFD loop", file: loop, want: ErrMalformed, wantMsg: "loops back"},
		{name: "strip past end", file: pastEnd, want: ErrTruncated,
			wantMsg: fmt.Sprintf("strip 3 ends at byte %d, beyond the file's %d bytes", lastOff+1000, len(pastEnd))},
		{name: "no byte counts", file: noCounts, want: ErrMalformed, wantMsg: "strip offsets but no strip byte counts"},
		{name: "no first directory", file: []byte("II*\x00\x00\x00\x00\x00"), want: ErrMalformed},
		{name: "first directory past end", file: []byte("II*\x00\x00\x01\x00\x00"), want: ErrTruncated},
		{name: "BigTIFF bad offset size", file: []byte("II+\x00\x04\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00"), want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(context.Background(), bytes.NewReader(tt.file), int64(len(tt.file)))
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("Check: got %v, want nil", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("Check: got %v, want an error wrapping %v", err, tt.want)
			case tt.want != nil && !strings.Contains(err.Error(), tt.wantMsg):
				t.Fatalf("Check: got %q, want it to contain %q", err, tt.wantMsg)
			case err != nil && !strings.HasPrefix(err.Error(), "tiff: "):
				t.Fatalf("Check: got %q, want it to start with \"tiff: \"", err)
			}
		})
	}
}

// TestCheckPrefixes checks that every proper prefix of a valid file fails
// with ErrTruncated, whichever layout the file has.
func TestCheckPrefixes(t *testing.T) {
	files := map[string][]byte{
		"classic":           build(t, layout{typ: typeLong, pieces: 3, pieceLen: 20, images: 2}),
		"big-endian SHORT":  build(t, layout{bo: binary.BigEndian, typ: typeShort, pieces: 3, pieceLen: 20}),
		"BigTIFF":           build(t, layout{big: true, tiles: true, typ: typeLong8, pieces: 3, pieceLen: 20, images: 2}),
		"generated header":  mustHeader(t, MinSize+40),
		"generated 2 strip": mustHeader(t, StripSize+600),
	}
	for name, file := range files {
		t.Run(name, func(t *testing.T) {
			if err := Check(context.Background(), bytes.NewReader(file), int64(len(file))); err != nil {
				t.Fatalf("Check(full file): %v", err)
			}
			// Every prefix of the small files; for the large one,
			// every prefix of the header and a sample of the rest.
			step := 1
			if len(file) > 4096 {
				step = 997
				for n := range 1024 {
					if err := Check(context.Background(), bytes.NewReader(file[:n]), int64(n)); !errors.Is(err, ErrTruncated) {
						t.Fatalf("Check(first %d of %d bytes): got %v, want ErrTruncated", n, len(file), err)
					}
				}
			}
			for n := 0; n < len(file); n += step {
				// The reader holds the whole file but the size says
				// it was cut, as for a partial download on disk.
				if err := Check(context.Background(), bytes.NewReader(file[:n]), int64(n)); !errors.Is(err, ErrTruncated) {
					t.Fatalf("Check(first %d of %d bytes): got %v, want ErrTruncated", n, len(file), err)
				}
			}
			n := len(file) - 1
			if err := Check(context.Background(), bytes.NewReader(file[:n]), int64(n)); !errors.Is(err, ErrTruncated) {
				t.Fatalf("Check(first %d of %d bytes): got %v, want ErrTruncated", n, len(file), err)
			}
		})
	}
}

// TestCheckShortReader checks a reader that ends before the size claimed.
func TestCheckShortReader(t *testing.T) {
	file := build(t, layout{typ: typeLong, pieces: 3, pieceLen: 20})
	err := Check(context.Background(), bytes.NewReader(file[:20]), int64(len(file)))
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("Check: got %v, want ErrTruncated", err)
	}
}

func TestHeader(t *testing.T) {
	sizes := []int64{MinSize, MinSize + 1, 1000, StripSize, StripSize + headerFixed, StripSize + headerFixed + 1,
		2 * StripSize, 2*StripSize + headerFixed + 16, 2 << 20, 150 << 20}
	// Sizes around the boundaries where the strip count changes.
	for n := int64(1); n < 5; n++ {
		for d := int64(-40); d <= 40; d++ {
			sizes = append(sizes, n*StripSize+headerFixed+d)
		}
	}
	for _, size := range sizes {
		h, err := Header(size)
		if err != nil {
			t.Fatalf("Header(%d): %v", size, err)
		}
		r := &sparse{head: h, size: size}
		if err := Check(context.Background(), r, size); err != nil {
			t.Fatalf("Check(Header(%d)): %v", size, err)
		}
		if err := Check(context.Background(), r, size-1); !errors.Is(err, ErrTruncated) {
			t.Fatalf("Check(Header(%d)) cut by one byte: got %v, want ErrTruncated", size, err)
		}
		if got, want := stripEnd(t, h), size; got != want {
			t.Fatalf("Header(%d): strips end at byte %d, want %d", size, got, want)
		}
		if len(h) > 1024+int(size/StripSize)*8 {
			t.Fatalf("Header(%d): got %d bytes, want a short header", size, len(h))
		}
	}
	if MinSize != 123 {
		t.Errorf("MinSize: got %d, want the 123 bytes its doc comment states", MinSize)
	}
	for _, size := range []int64{-1, 0, MinSize - 1, MaxSize + 1} {
		if _, err := Header(size); err == nil {
			t.Errorf("Header(%d): got no error, want one", size)
		}
	}
}

// stripEnd returns where the last strip of a Header ends, and checks the
// strips are contiguous and start right after the header.
func stripEnd(t *testing.T, h []byte) int64 {
	t.Helper()
	le := binary.LittleEndian
	var offs, lens []uint32
	read := func(e []byte) []uint32 {
		count := le.Uint32(e[4:])
		if count == 1 {
			return []uint32{le.Uint32(e[8:])}
		}
		var v []uint32
		at := le.Uint32(e[8:])
		for k := range count {
			v = append(v, le.Uint32(h[at+4*k:]))
		}
		return v
	}
	for k := range int(le.Uint16(h[8:])) {
		e := h[10+12*k:]
		switch le.Uint16(e) {
		case tagStripOffsets:
			offs = read(e)
		case tagStripByteCounts:
			lens = read(e)
		}
	}
	next := int64(len(h))
	for k := range offs {
		if int64(offs[k]) != next {
			t.Fatalf("strip %d starts at %d, want %d", k, offs[k], next)
		}
		if lens[k] == 0 {
			t.Fatalf("strip %d is empty", k)
		}
		next += int64(lens[k])
	}
	return next
}

// sparse is a file of size bytes that starts with head and is zero after
// it; it counts the bytes read.
type sparse struct {
	head []byte
	size int64
	read atomic.Int64
}

func (s *sparse) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.size {
		return 0, io.EOF
	}
	n := copy(p, s.head[min(off, int64(len(s.head))):])
	clear(p[n:])
	n = int(min(int64(len(p)), s.size-off))
	s.read.Add(int64(n))
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func FuzzCheck(f *testing.F) {
	f.Add(build(f, layout{typ: typeLong, pieces: 3, pieceLen: 4, images: 2}))
	f.Add(build(f, layout{typ: typeShort, pieces: 2, pieceLen: 4}))
	f.Add(build(f, layout{bo: binary.BigEndian, tiles: true, typ: typeLong, pieces: 2, pieceLen: 4}))
	f.Add(build(f, layout{big: true, typ: typeLong8, pieces: 3, pieceLen: 4, images: 2}))
	f.Add(mustHeader(f, MinSize+8))
	f.Add([]byte("<!DOCTYPE html>"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, file []byte) {
		// A claimed size larger than the data exercises short reads.
		for _, size := range []int64{int64(len(file)), int64(len(file)) + 1<<20} {
			err := Check(context.Background(), bytes.NewReader(file), size)
			if err != nil && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrNotTIFF) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("Check: got %v, want an error wrapping one of the sentinels", err)
			}
		}
	})
}

// BenchmarkCheck checks a 150 MB file of 2,500 tiles and reports how many
// bytes Check reads, and in how many reads: the header, the directory and
// the two 10 KB tile tables.
func BenchmarkCheck(b *testing.B) {
	file := build(b, layout{tiles: true, typ: typeLong, pieces: 2500, pieceLen: 60000})
	r := &counting{r: bytes.NewReader(file)}
	b.ReportAllocs()
	for b.Loop() {
		if err := Check(context.Background(), r, int64(len(file))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(r.n.Load())/float64(b.N), "bytes-read/op")
	b.ReportMetric(float64(r.calls.Load())/float64(b.N), "reads/op")
}

// counting counts the bytes read through it.
type counting struct {
	r     io.ReaderAt
	n     atomic.Int64 // bytes
	calls atomic.Int64
}

func (c *counting) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	c.calls.Add(1)
	return n, err
}
