package terrascopetest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/wcdl/wcdl/downloader/tiff"
)

// blockSize is the length of the pseudo-random block a file's body repeats.
const blockSize = 64 << 10

// baseModTime is the Last-Modified time of version 0 of every file; each
// version adds a day.
var baseModTime = time.Date(2021, time.October, 18, 9, 30, 0, 0, time.UTC)

// A file is one version of what the server sends for a path. Its bytes are
// computed on demand at any offset: a TIFF header for .tif paths, then a
// 64 KiB pseudo-random block derived from the path, version and seed,
// repeated, with the first 8 bytes of each repetition XORed with the
// block's index so no two blocks are alike.
type file struct {
	name    string
	size    int64
	version int
	key     [32]byte // hash of seed, version, size and name
	head    []byte   // TIFF header, or nil
	blocks  *blockCache
}

func newFile(seed int64, name string, version int, size int64, blocks *blockCache) (*file, error) {
	f := &file{name: name, size: size, version: version, blocks: blocks}
	h := sha256.New()
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(seed))
	binary.LittleEndian.PutUint64(b[8:], uint64(version))
	binary.LittleEndian.PutUint64(b[16:], uint64(size))
	h.Write(b[:])
	h.Write([]byte(name))
	h.Sum(f.key[:0])
	if isTIFF(name) && size >= tiff.MinSize && size <= tiff.MaxSize {
		head, err := tiff.Header(size)
		if err != nil {
			return nil, err
		}
		f.head = head
	}
	return f, nil
}

// etag is the file's strong entity tag, quoted.
func (f *file) etag() string {
	return `"` + hex.EncodeToString(f.key[:12]) + `"`
}

// modTime is the file's Last-Modified time.
func (f *file) modTime() time.Time {
	return baseModTime.Add(time.Duration(f.version) * 24 * time.Hour)
}

// contentType is the Content-Type the service sends for the file.
func (f *file) contentType() string {
	if f.head != nil {
		return "image/tiff"
	}
	return "application/octet-stream"
}

// ReadAt implements io.ReaderAt over the file's content.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("terrascopetest: negative offset")
	}
	if off >= f.size {
		return 0, io.EOF
	}
	var err error
	if rest := f.size - off; int64(len(p)) > rest {
		p = p[:rest]
		err = io.EOF
	}
	n := len(p)
	if off < int64(len(f.head)) {
		k := copy(p, f.head[off:])
		p = p[k:]
		off += int64(k)
	}
	if len(p) == 0 {
		return n, err
	}
	block := f.blocks.get(f.key)
	for len(p) > 0 {
		i, j := off/blockSize, int(off%blockSize)
		k := copy(p, block[j:])
		if j < 8 {
			var x [8]byte
			binary.LittleEndian.PutUint64(x[:], uint64(i))
			for q := j; q < 8 && q-j < k; q++ {
				p[q-j] ^= x[q]
			}
		}
		p = p[k:]
		off += int64(k)
	}
	return n, err
}

// A blockCache holds the pseudo-random blocks of recently served files, so
// concurrent range requests for one file generate its block once.
type blockCache struct {
	mu     sync.Mutex
	blocks map[[32]byte][]byte
}

// maxCachedBlocks bounds the cache to 16 MiB.
const maxCachedBlocks = 256

func (c *blockCache) get(key [32]byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.blocks[key]; ok {
		return b
	}
	if c.blocks == nil || len(c.blocks) >= maxCachedBlocks {
		c.blocks = make(map[[32]byte][]byte)
	}
	b := make([]byte, blockSize)
	rand.NewChaCha8(key).Read(b)
	c.blocks[key] = b
	return b
}

// isTIFF reports whether a name gets TIFF content.
func isTIFF(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasSuffix(lower, ".tif") || strings.HasSuffix(lower, ".tiff")
}
