package tiff

import (
	"encoding/binary"
	"fmt"
)

// MinSize is the smallest file size Header accepts: one directory and one
// byte of image data, 123 bytes in all.
const MinSize = headerFixed + 1

// MaxSize is the largest file size Header accepts: classic TIFF offsets are
// 32 bits wide.
const MaxSize = 1<<32 - 1

// StripSize is the most image bytes Header puts in one strip.
const StripSize = 256 << 10

const (
	headerEntries = 9
	ifdLen        = 2 + headerEntries*12 + 4
	headerFixed   = 8 + ifdLen // header and directory, without out-of-line tables
)

// Header returns the leading bytes of a valid little-endian classic TIFF of
// exactly size bytes. The file holds one uncompressed 8-bit grayscale image,
// one pixel wide and as tall as there are data bytes, stored in strips of at
// most StripSize bytes that fill everything after the header: the caller
// appends size-len(header) bytes of any content to get a file Check accepts.
//
// size must be between MinSize and MaxSize. The header is a few hundred
// bytes, plus 8 bytes per strip for files of more than one strip.
func Header(size int64) ([]byte, error) {
	if size < MinSize || size > MaxSize {
		return nil, fmt.Errorf("tiff: cannot make a header for a file of %d bytes: size must be between %d and %d", size, int64(MinSize), int64(MaxSize))
	}
	// Pick the strip count n so the last strip is not empty. Each extra
	// strip costs 8 header bytes, so a few sizes fall in a gap where n
	// strips leave the last one empty and n-1 strips cannot hold the
	// data; those get up to a few bytes of padding after the tables.
	n := max(1, (size-headerLen(1)+StripSize-1)/StripSize)
	var data, pad int64
	for {
		data = size - headerLen(n)
		if data > (n-1)*StripSize || n == 1 {
			break
		}
		n--
	}
	if data > n*StripSize {
		pad = data - n*StripSize
		data = n * StripSize
	}
	hlen := headerLen(n) + pad
	h := make([]byte, hlen)
	le := binary.LittleEndian
	copy(h, "II*\x00")
	le.PutUint32(h[4:], 8)
	le.PutUint16(h[8:], headerEntries)

	// Out-of-line strip tables follow the directory.
	offsTable := int64(headerFixed)
	lensTable := offsTable + 4*n
	e := h[10:]
	entry := func(tag, typ uint16, count, value uint32) {
		le.PutUint16(e[0:], tag)
		le.PutUint16(e[2:], typ)
		le.PutUint32(e[4:], count)
		if typ == typeShort {
			le.PutUint16(e[8:], uint16(value))
		} else {
			le.PutUint32(e[8:], value)
		}
		e = e[12:]
	}
	rows := min(data, StripSize)
	entry(256, typeLong, 1, 1)            // ImageWidth
	entry(257, typeLong, 1, uint32(data)) // ImageLength
	entry(258, typeShort, 1, 8)           // BitsPerSample
	entry(259, typeShort, 1, 1)           // Compression: none
	entry(262, typeShort, 1, 1)           // PhotometricInterpretation: BlackIsZero
	if n == 1 {
		entry(tagStripOffsets, typeLong, 1, uint32(hlen))
	} else {
		entry(tagStripOffsets, typeLong, uint32(n), uint32(offsTable))
	}
	entry(277, typeShort, 1, 1)           // SamplesPerPixel
	entry(278, typeLong, 1, uint32(rows)) // RowsPerStrip
	if n == 1 {
		entry(tagStripByteCounts, typeLong, 1, uint32(data))
	} else {
		entry(tagStripByteCounts, typeLong, uint32(n), uint32(lensTable))
		for k := range n {
			le.PutUint32(h[offsTable+4*k:], uint32(hlen+k*StripSize))
			le.PutUint32(h[lensTable+4*k:], uint32(min(StripSize, data-k*StripSize)))
		}
	}
	le.PutUint32(e, 0) // no next directory
	return h, nil
}

// headerLen is the header length for n strips, without padding.
func headerLen(n int64) int64 {
	if n == 1 {
		return headerFixed
	}
	return headerFixed + 8*n
}
