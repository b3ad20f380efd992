package downloader

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
)

// finishPart verifies and publishes a file whose slot already holds every
// byte.
func (j *job) finishPart(ctx context.Context, size int64, meta partMeta) error {
	hs := j.hashes()
	if j.streamChecks() {
		j.keep = nil
		if j.needsKeep() {
			if err := j.fetchHead(ctx, meta, size); err != nil {
				return err
			}
		}
		if err := resumeDigests(hs, j.digests); err != nil {
			j.discard(ctx)
			return err
		}
		return j.publish(ctx, size, hs)
	}
	bufp := j.d.bufs.Get().(*[]byte)
	defer j.d.bufs.Put(bufp)
	if err := hashPart(j.f, size, *bufp, hs); err != nil {
		return err
	}
	return j.publish(ctx, size, hs)
}

// publish verifies the complete file in the slot and publishes it at its
// final name. On a failed verification the slot is emptied.
func (j *job) publish(ctx context.Context, size int64, hs fileHashes) error {
	if err := j.verify(ctx, size, hs); err != nil {
		// One cut short by the end of ctx keeps the part, for the next
		// run to verify again.
		if ctx.Err() == nil {
			j.discard(ctx)
		}
		return err
	}
	j.published = true // whatever Publish says, the slot is spent
	if err := j.f.Publish(ctx, size); err != nil {
		return err
	}
	j.r.Size, j.r.Checked = size, j.checked
	if hs.sha256 != nil {
		j.r.SHA256 = hex.EncodeToString(hs.sha256.Sum(nil))
	}
	return nil
}

// verify checks the complete file in the slot against the manifest and its
// format.
func (j *job) verify(ctx context.Context, size int64, hs fileHashes) error {
	if held, err := j.f.Held(ctx); err != nil || held.Size != size {
		return fmt.Errorf("%w: the partial file does not hold the %d bytes received (%d, %v)", ErrSizeMismatch, size, held.Size, err)
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
	checked, err := j.checkDigest(hs)
	if err != nil {
		return err
	}
	if err := checkFormat(ctx, j.e.Name, j.formatReader(), size); err != nil {
		if ctx.Err() != nil {
			return err
		}
		if j.keep != nil && j.keep.missed {
			if !j.keep.whole {
				// Resumed past the tail it needs: a restart keeps it.
				return fmt.Errorf("%w: resumed past the bytes the check needs; starting over: %w", ErrNotKept, err)
			}
			return &finalError{fmt.Errorf("%w: its structure lies beyond the first %d KiB and the last %d KiB, which are all that is kept to check a file streamed to %s: %w",
				ErrNotKept, streamHead>>10, streamTail>>10, j.loc.Where(j.e.Name), err)}
		}
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	j.checked = append(checked, formatChecked(j.e.Name)...)
	return nil
}

// fileHashes are the digests computed over the whole file.
type fileHashes struct {
	sha256 hash.Hash // nil when Config.SkipSHA256 and the manifest gives none
	md5    hash.Hash // nil unless the manifest gives an MD5
	// src computes the digest the service published (j.digest), or is nil.
	src *digestCheck
}

// hashes returns the digests this entry needs: SHA-256 for its Result
// (unless Config.SkipSHA256) or to check the manifest's sha256=, MD5 to
// check its md5=, and the digest the service published.
func (j *job) hashes() fileHashes {
	var hs fileHashes
	if j.e.SHA256 != "" || !j.d.cfg.SkipSHA256 {
		hs.sha256 = sha256.New()
	}
	if j.e.MD5 != "" {
		hs.md5 = md5.New()
	}
	hs.src = newDigestCheck(j.digest)
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
	if hs.src != nil {
		ws = append(ws, hs.src)
	}
	return ws
}

// hashPart feeds the first n bytes of f to hs, through buf. With no digest
// to compute it reads nothing.
func hashPart(f io.ReaderAt, n int64, buf []byte, hs fileHashes) error {
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
