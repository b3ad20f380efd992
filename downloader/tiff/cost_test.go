package tiff

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// crafted returns a classic TIFF of strips pieces of one byte each, whose
// offsets and byte counts tables are written once and pointed to by images
// directories. With shrink, directory i lists i strips fewer than the
// first, so no two directories list the same tables, though all read the
// same bytes.
func crafted(t testing.TB, strips, images int, shrink bool) []byte {
	t.Helper()
	if shrink && images >= strips {
		t.Fatalf("crafted: %d images cannot each list fewer of %d strips", images, strips)
	}
	le := binary.LittleEndian
	offsAt := 8
	lensAt := offsAt + 4*strips
	dataAt := lensAt + 4*strips
	ifdAt := dataAt + strips
	b := make([]byte, ifdAt, ifdAt+images*(2+3*12+4))
	copy(b, "II*\x00")
	le.PutUint32(b[4:], uint32(ifdAt))
	for k := range strips {
		le.PutUint32(b[offsAt+4*k:], uint32(dataAt+k))
		le.PutUint32(b[lensAt+4*k:], 1)
	}
	for i := range images {
		n := strips
		if shrink {
			n -= i
		}
		b = le.AppendUint16(b, 3)
		for _, e := range [][3]uint32{{256, typeShort, 1}, {tagStripOffsets, typeLong, uint32(n)}, {tagStripByteCounts, typeLong, uint32(n)}} {
			b = le.AppendUint16(b, uint16(e[0]))
			b = le.AppendUint16(b, uint16(e[1]))
			b = le.AppendUint32(b, e[2])
			switch e[0] {
			case tagStripOffsets:
				b = le.AppendUint32(b, uint32(offsAt))
			case tagStripByteCounts:
				b = le.AppendUint32(b, uint32(lensAt))
			default:
				b = le.AppendUint32(b, 1)
			}
		}
		next := 0
		if i < images-1 {
			next = len(b) + 4
		}
		b = le.AppendUint32(b, uint32(next))
	}
	return b
}

// TestCheckBoundsItsReads checks files whose thousand directories all point
// to one pair of strip tables: Check reads at most MaxReadFactor times the
// file (and ReadSlack), where it used to read the tables once per directory.
func TestCheckBoundsItsReads(t *testing.T) {
	const strips, images = 8192, MaxIFDs
	tests := []struct {
		name string
		file []byte
		want error // nil, or the sentinel the error must wrap
	}{
		// The same tables listed by every directory: checked once.
		{name: "shared tables", file: crafted(t, strips, images, false)},
		// Each directory lists one strip fewer, so each pair of tables
		// differs: refused once the reads pass the bound.
		{name: "overlapping tables", file: crafted(t, strips, images, true), want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size := int64(len(tt.file))
			r := &counting{r: bytes.NewReader(tt.file)}
			err := Check(context.Background(), r, size)
			if tt.want == nil && err != nil {
				t.Fatalf("Check: got %v, want nil", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Check: got %v, want an error wrapping %v", err, tt.want)
			}
			// The tables alone are 64 KiB; read once per directory they
			// would be 64 MiB.
			if got, limit := r.n.Load(), MaxReadFactor*size+ReadSlack; got > limit {
				t.Fatalf("Check read %d bytes of a %d-byte file, want at most %d", got, size, limit)
			}
		})
	}
}

// TestCheckStopsWithContext checks that Check ends within one buffer of
// reads once its context is cancelled, and that it does not report the
// file as broken.
func TestCheckStopsWithContext(t *testing.T) {
	// One directory with a large table: 512 KiB of offsets and counts.
	file := crafted(t, 64<<10, 1, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &cancelAfter{r: bytes.NewReader(file), after: 16 << 10, cancel: cancel}
	err := Check(ctx, r, int64(len(file)))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Check: got %v, want context.Canceled", err)
	}
	if errors.Is(err, ErrMalformed) || errors.Is(err, ErrTruncated) || errors.Is(err, ErrNotTIFF) {
		t.Fatalf("Check: got %v, want no verdict on the file", err)
	}
	if got, limit := r.n.Load(), int64(16<<10+2*4096); got > limit {
		t.Fatalf("Check read %d bytes, of which %d after the cancel; want at most %d in all", got, got-16<<10, limit)
	}
}

// cancelAfter calls cancel once after bytes have been read through it.
type cancelAfter struct {
	r      io.ReaderAt
	after  int64
	cancel context.CancelFunc
	n      atomic.Int64
}

func (c *cancelAfter) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	if c.n.Add(int64(n)) >= c.after {
		c.cancel()
	}
	return n, err
}

// BenchmarkCheckCrafted checks a 1 MiB file on disk whose thousand
// directories share overlapping strip tables, and reports the bytes read
// per byte of file.
func BenchmarkCheckCrafted(b *testing.B) {
	for _, bc := range []struct {
		name   string
		shrink bool
	}{{"shared", false}, {"overlapping", true}} {
		b.Run(bc.name, func(b *testing.B) {
			file := crafted(b, 116<<10, MaxIFDs, bc.shrink)
			path := filepath.Join(b.TempDir(), "crafted.tif")
			if err := os.WriteFile(path, file, 0o644); err != nil {
				b.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			r := &counting{r: f}
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			for b.Loop() {
				err := Check(context.Background(), r, int64(len(file)))
				if bc.shrink != (err != nil) {
					b.Fatalf("Check: %v", err)
				}
			}
			b.ReportMetric(float64(r.n.Load())/float64(b.N)/float64(len(file)), "read/size")
		})
	}
}
