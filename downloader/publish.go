package downloader

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
)

// finishPart verifies and publishes a part that already holds every byte.
func (j *job) finishPart(ctx context.Context, size int64, meta partMeta) error {
	f, err := openFile(j.part, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open partial file: %w", err)
	}
	bufp := j.d.bufs.Get().(*[]byte)
	defer j.d.bufs.Put(bufp)
	hs := j.hashes()
	if err := hashPart(f, size, *bufp, hs); err != nil {
		f.Close()
		return err
	}
	return j.publish(ctx, f, size, hs)
}

// publish verifies the complete part f and renames it to the final name:
// Sync, Close, Rename, fsync of the folder. On a failed verification the part
// and its metadata are removed; one cut short by the end of ctx keeps them,
// for the next run to verify again. publish closes f.
func (j *job) publish(ctx context.Context, f *os.File, size int64, hs fileHashes) error {
	if err := j.verify(ctx, f, size, hs); err != nil {
		f.Close()
		if ctx.Err() == nil {
			j.discard()
		}
		return err
	}
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write partial file %s: %w", j.part, err)
	}
	// The meta goes first, so that it never outlives its part: a crash
	// right after costs this file a restart, never a stray meta.
	j.removeMeta()
	if err := os.Rename(j.part, j.final); err != nil {
		return fmt.Errorf("publish %s: %w", j.final, notRegular(j.final, err))
	}
	j.published = true
	if err := syncDir(j.d.cfg.Dir); err != nil {
		return fmt.Errorf("publish %s: %w", j.final, err)
	}
	j.r.Size = size
	if hs.sha256 != nil {
		j.r.SHA256 = hex.EncodeToString(hs.sha256.Sum(nil))
	}
	return nil
}

// verify checks the complete part against the manifest and its format.
func (j *job) verify(ctx context.Context, f *os.File, size int64, hs fileHashes) error {
	if fi, err := f.Stat(); err != nil || fi.Size() != size {
		return fmt.Errorf("%w: the partial file does not hold the %d bytes received (%v)", ErrSizeMismatch, size, err)
	}
	if j.e.Size >= 0 && size != j.e.Size {
		return fmt.Errorf("%w: got %d bytes, the manifest says %d", ErrSizeMismatch, size, j.e.Size)
	}
	if want := strings.ToLower(j.e.SHA256); want != "" {
		if got := hex.EncodeToString(hs.sha256.Sum(nil)); got != want {
			return fmt.Errorf("%w: SHA-256 is %s, the manifest says %s", ErrChecksum, got, want)
		}
	}
	if want := strings.ToLower(j.e.MD5); want != "" && hs.md5 != nil {
		if got := hex.EncodeToString(hs.md5.Sum(nil)); got != want {
			return fmt.Errorf("%w: MD5 is %s, the manifest says %s", ErrChecksum, got, want)
		}
	}
	if err := checkFormat(ctx, j.e.Name, f, size); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return nil
}

// fileHashes are the digests computed over the whole file.
type fileHashes struct {
	sha256 hash.Hash // nil when Config.SkipSHA256 and the manifest gives none
	md5    hash.Hash // nil unless the manifest gives an MD5
}

// hashes returns the digests this entry needs: SHA-256 for its Result
// (unless Config.SkipSHA256) or to check the manifest's sha256=, MD5 to
// check its md5=.
func (j *job) hashes() fileHashes {
	var hs fileHashes
	if j.e.SHA256 != "" || !j.d.cfg.SkipSHA256 {
		hs.sha256 = sha256.New()
	}
	if j.e.MD5 != "" {
		hs.md5 = md5.New()
	}
	return hs
}

func hashWriters(hs fileHashes) []io.Writer {
	var ws []io.Writer
	if hs.sha256 != nil {
		ws = append(ws, hs.sha256)
	}
	if hs.md5 != nil {
		ws = append(ws, hs.md5)
	}
	return ws
}

// hashPart feeds the first n bytes of f to hs, through buf. With no digest
// to compute it reads nothing.
func hashPart(f *os.File, n int64, buf []byte, hs fileHashes) error {
	ws := hashWriters(hs)
	if len(ws) == 0 {
		return nil
	}
	w := io.MultiWriter(ws...)
	var off int64
	for off < n {
		m, err := f.ReadAt(buf[:min(int64(len(buf)), n-off)], off)
		w.Write(buf[:m])
		off += int64(m)
		if err != nil && off < n {
			return fmt.Errorf("read partial file: %w", err)
		}
	}
	return nil
}
