package bucket

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/wcdl/wcdl/output"
)

// file is one name's slot in the bucket, held from Open to Close.
type file struct {
	b               *Bucket
	name, key, skey string

	// ctx is Open's: WriteAt (io.WriterAt) takes none, and the part it
	// uploads when the buffer is full must end with the run.
	ctx context.Context

	mu   sync.Mutex // st and etag, shared with the renewer
	st   state
	etag string // of the state object as this file last wrote it
	lost bool   // another process took the lock over

	checked  bool  // Held compared st with the bucket
	uploaded int64 // bytes in st.Parts
	size     int64 // bytes written: uploaded and buffered
	buf      []byte
	// sha is the SHA-256 of the size bytes written. No MD5 is kept: a
	// file checked against a manifest's md5= restarts from zero after
	// an interruption, rather than every file paying for a digest that
	// few manifests give.
	sha hash.Hash

	stop      chan struct{} // closed to end the renewer
	renewDone chan struct{}
	published bool
	closed    bool
}

var _ output.File = (*file)(nil)

func (b *Bucket) newFile(ctx context.Context, name string, st state, etag string) *file {
	key := b.key(name)
	f := &file{b: b, name: name, key: key, skey: key + ".part", ctx: ctx, st: st, etag: etag,
		sha: sha256.New(), stop: make(chan struct{}), renewDone: make(chan struct{})}
	go f.renew()
	return f
}

// isLost reports whether another process took the lock over.
func (f *file) isLost() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lost
}

// renew keeps the lock for as long as the file is held.
func (f *file) renew() {
	defer close(f.renewDone)
	t := time.NewTicker(f.b.cfg.LockTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), f.b.cfg.LockTTL/3)
			if err := f.save(ctx); err != nil {
				f.b.cfg.Logger.Debug("renewing a lock", "key", f.skey, "error", err)
			}
			cancel()
		}
	}
}

// save writes the state object, renewing the lock; it fails with
// ErrLockLost if another process took the lock over.
func (f *file) save(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lost {
		return fmt.Errorf("%s: %w", f.b.Where(f.name), ErrLockLost)
	}
	if !f.st.Expires.IsZero() {
		f.st.Expires = f.b.cfg.Now().Add(f.b.cfg.LockTTL)
	}
	etag, err := f.b.putState(ctx, f.skey, &f.st, f.etag, "")
	if conflict(err) {
		f.lost = true
		return fmt.Errorf("%s: %w", f.b.Where(f.name), ErrLockLost)
	}
	if err != nil {
		return fmt.Errorf("save the state of %s: %s", f.b.Where(f.name), apiMessage(err))
	}
	f.etag = etag
	return nil
}

// Held checks once what the state object says against the bucket: the
// parts it lists must be those of the upload, and the digests' states
// must be whole; else the upload is aborted and the slot is empty. Other
// uploads of the key, left by runs that kept no state, are aborted.
func (f *file) Held(ctx context.Context) (output.Held, error) {
	if !f.checked {
		f.checked = true
		if err := f.check(ctx); err != nil {
			return output.Held{}, err
		}
	}
	h := output.Held{Size: f.size, Digests: map[string][]byte{}}
	if f.st.Record != nil {
		h.Record = *f.st.Record
	}
	h.Digests["sha256"], _ = f.sha.(encoding.BinaryMarshaler).MarshalBinary()
	return h, nil
}

func (f *file) check(ctx context.Context) error {
	var orphans []string
	in := &s3.ListMultipartUploadsInput{Bucket: &f.b.bucket, Prefix: &f.key}
	for {
		out, err := f.b.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return fmt.Errorf("list the uploads of %s: %s", f.b.Where(f.name), apiMessage(err))
		}
		for _, u := range out.Uploads {
			if aws.ToString(u.Key) == f.key && aws.ToString(u.UploadId) != f.st.Upload {
				orphans = append(orphans, aws.ToString(u.UploadId))
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
	for _, id := range orphans {
		if err := f.abort(ctx, id); err != nil {
			return err
		}
	}
	if f.st.Upload == "" {
		return f.reset(ctx, false)
	}
	ok, err := f.partsThere(ctx)
	if err != nil {
		return err
	}
	if ok {
		ok = f.sha.(encoding.BinaryUnmarshaler).UnmarshalBinary(f.st.SHA256) == nil
	}
	if !ok {
		return f.reset(ctx, true)
	}
	for _, p := range f.st.Parts {
		f.uploaded += p.Size
	}
	f.size = f.uploaded
	return nil
}

// partsThere reports whether the upload holds every part the state lists,
// of the same size and ETag.
func (f *file) partsThere(ctx context.Context) (bool, error) {
	have := map[int32]types.Part{}
	in := &s3.ListPartsInput{Bucket: &f.b.bucket, Key: &f.key, UploadId: &f.st.Upload}
	for {
		out, err := f.b.client.ListParts(ctx, in)
		if statusOf(err) == http.StatusNotFound {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("list the parts of %s: %s", f.b.Where(f.name), apiMessage(err))
		}
		for _, p := range out.Parts {
			have[aws.ToInt32(p.PartNumber)] = p
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.PartNumberMarker = out.NextPartNumberMarker
	}
	for i, p := range f.st.Parts {
		q, ok := have[p.N]
		if !ok || p.N != int32(i+1) || aws.ToInt64(q.Size) != p.Size || trimQuotes(aws.ToString(q.ETag)) != trimQuotes(p.ETag) {
			return false, nil
		}
	}
	return len(f.st.Parts) > 0, nil
}

func trimQuotes(s string) string { return strings.Trim(s, `"`) }

// reset empties the slot: aborts its upload if abort, and forgets the
// parts, the record and the digests.
func (f *file) reset(ctx context.Context, abort bool) error {
	if abort && f.st.Upload != "" {
		if err := f.abort(ctx, f.st.Upload); err != nil {
			return err
		}
	}
	f.mu.Lock()
	f.st.Upload, f.st.Parts, f.st.Record, f.st.SHA256 = "", nil, nil, nil
	f.mu.Unlock()
	f.sha.Reset()
	f.uploaded, f.size, f.buf = 0, 0, f.buf[:0]
	return nil
}

// abort aborts upload id of the key; one the bucket no longer knows is
// gone already.
func (f *file) abort(ctx context.Context, id string) error {
	_, err := f.b.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &f.b.bucket, Key: &f.key, UploadId: &id})
	if err != nil && statusOf(err) != http.StatusNotFound {
		return fmt.Errorf("abort an upload of %s: %s", f.b.Where(f.name), apiMessage(err))
	}
	if err == nil {
		f.b.aborted.Add(1)
		f.b.cfg.Logger.Debug("aborted an incomplete upload", "key", f.key, "upload", id)
	}
	return nil
}

// partSize is the size of the parts of this file.
func (f *file) partSize() int64 {
	size := int64(-1)
	if f.st.Record != nil {
		size = f.st.Record.Size
	}
	return f.b.partSize(size)
}

// WriteAt appends p: it is buffered, and each full buffer is uploaded as
// the next part.
func (f *file) WriteAt(p []byte, off int64) (int, error) {
	if f.published || f.closed {
		return 0, fmt.Errorf("write to %s after Publish or Close", f.b.Where(f.name))
	}
	if off != f.size {
		return 0, fmt.Errorf("write %d bytes at %d of %s, which holds %d: %w", len(p), off, f.b.Where(f.name), f.size, output.ErrAppendOnly)
	}
	if f.buf == nil {
		f.buf = f.b.buffer()
	}
	n := 0
	for len(p) > 0 {
		ps := f.partSize()
		if int64(len(f.buf)) >= ps {
			if err := f.flush(f.ctx); err != nil {
				return n, err
			}
		}
		m := min(int64(len(p)), ps-int64(len(f.buf)))
		f.buf = append(f.buf, p[:m]...)
		f.sha.Write(p[:m])
		f.size += m
		n += int(m)
		p = p[m:]
	}
	if int64(len(f.buf)) >= f.partSize() {
		if err := f.flush(f.ctx); err != nil {
			return n, err
		}
	}
	return n, nil
}

// flush uploads the buffer as the next part, creating the upload first if
// needed, and records it in the state object.
func (f *file) flush(ctx context.Context) error {
	if f.isLost() {
		return fmt.Errorf("%s: %w", f.b.Where(f.name), ErrLockLost)
	}
	if f.st.Upload == "" {
		out, err := f.b.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
			Bucket: &f.b.bucket, Key: &f.key, ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		})
		if err != nil {
			return fmt.Errorf("start the upload of %s: %s", f.b.Where(f.name), apiMessage(err))
		}
		f.mu.Lock()
		f.st.Upload = aws.ToString(out.UploadId)
		f.mu.Unlock()
		if err := f.save(ctx); err != nil {
			return err
		}
	}
	n := int32(len(f.st.Parts) + 1)
	if n > maxParts {
		return fmt.Errorf("upload %s: more than %d parts of %d bytes", f.b.Where(f.name), maxParts, f.partSize())
	}
	sum := sha256.Sum256(f.buf)
	c := base64.StdEncoding.EncodeToString(sum[:])
	out, err := f.b.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: &f.b.bucket, Key: &f.key, UploadId: &f.st.Upload, PartNumber: &n,
		Body: bytes.NewReader(f.buf), ContentLength: aws.Int64(int64(len(f.buf))),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: &c,
	})
	if err != nil {
		return fmt.Errorf("upload part %d of %s: %s", n, f.b.Where(f.name), apiMessage(err))
	}
	if got := aws.ToString(out.ChecksumSHA256); got != "" && got != c {
		return fmt.Errorf("%w: part %d of %s: %s, sent %s", ErrPartChecksum, n, f.b.Where(f.name), got, c)
	}
	shaState, _ := f.sha.(encoding.BinaryMarshaler).MarshalBinary()
	f.mu.Lock()
	f.st.Parts = append(f.st.Parts, part{N: n, Size: int64(len(f.buf)), ETag: aws.ToString(out.ETag), SHA256: c})
	f.st.SHA256 = shaState
	f.mu.Unlock()
	f.uploaded += int64(len(f.buf))
	f.buf = f.buf[:0]
	return f.save(ctx)
}

// ReadAt cannot read back an upload.
func (f *file) ReadAt([]byte, int64) (int, error) { return 0, output.ErrNoReadBack }

// Save keeps rec in the state object with the upload.
func (f *file) Save(ctx context.Context, rec output.Record) error {
	f.mu.Lock()
	f.st.Record = &rec
	f.mu.Unlock()
	if f.st.Upload == "" {
		return nil // written with the first part
	}
	return f.save(ctx)
}

// Discard aborts the upload and empties the slot.
func (f *file) Discard(ctx context.Context) error {
	f.checked = true
	if err := f.reset(ctx, true); err != nil {
		return err
	}
	return f.save(ctx)
}

// Publish puts the object at its key: a file within one part as one
// PutObject with its full SHA-256 checksum, a larger one by uploading the
// rest as the last part and completing the upload; its SHA-256 is stored
// as x-amz-meta-sha256.
func (f *file) Publish(ctx context.Context, size int64) error {
	if size != f.size {
		return fmt.Errorf("publish %s: %d bytes written, %d announced", f.b.Where(f.name), f.size, size)
	}
	if f.isLost() {
		return fmt.Errorf("%s: %w", f.b.Where(f.name), ErrLockLost)
	}
	sum := f.sha.Sum(nil)
	hexSum, b64 := hex.EncodeToString(sum), base64.StdEncoding.EncodeToString(sum)
	meta := map[string]string{metaSHA256: hexSum}
	if f.st.Upload == "" {
		_, err := f.b.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &f.b.bucket, Key: &f.key, Body: bytes.NewReader(f.buf), ContentLength: aws.Int64(int64(len(f.buf))),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: &b64, Metadata: meta,
		})
		if err != nil {
			return fmt.Errorf("publish %s: %s", f.b.Where(f.name), apiMessage(err))
		}
	} else {
		if len(f.buf) > 0 {
			if err := f.flush(ctx); err != nil {
				return err
			}
		}
		parts := make([]types.CompletedPart, len(f.st.Parts))
		for i, p := range f.st.Parts {
			parts[i] = types.CompletedPart{PartNumber: aws.Int32(p.N), ETag: aws.String(p.ETag), ChecksumSHA256: aws.String(p.SHA256)}
		}
		_, err := f.b.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: &f.b.bucket, Key: &f.key, UploadId: &f.st.Upload,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
		if err != nil {
			return fmt.Errorf("publish %s: %s", f.b.Where(f.name), apiMessage(err))
		}
		// The metadata of an upload is set when it starts, before the
		// digest is known: a copy of the object onto itself stores it.
		// S3 keeps no full-object SHA-256 of a multipart upload (only
		// CRCs), and asking the copy for one makes the bucket read the
		// whole object again: each part's SHA-256 was checked instead.
		// The object is already complete and checked; a copy that fails
		// leaves it without x-amz-meta-sha256 (a rerun then skips it by
		// its size).
		src := url.PathEscape(f.b.bucket) + "/" + escapeKey(f.key)
		_, err = f.b.client.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket: &f.b.bucket, Key: &f.key, CopySource: &src,
			MetadataDirective: types.MetadataDirectiveReplace, Metadata: meta,
		})
		if err != nil {
			f.b.cfg.Logger.Warn("the object's SHA-256 could not be stored with it", "object", f.b.Where(f.name), "error", apiMessage(err))
		}
	}
	f.published = true
	f.end()
	_, err := f.b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &f.b.bucket, Key: &f.skey})
	if err != nil {
		f.b.cfg.Logger.Debug("removing a lock", "key", f.skey, "error", apiMessage(err))
	}
	return nil
}

// escapeKey escapes a key for x-amz-copy-source, keeping its slashes.
func escapeKey(k string) string {
	parts := strings.Split(k, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// end stops the renewer and gives the buffer back.
func (f *file) end() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
		<-f.renewDone
	}
	if f.buf != nil {
		f.b.release(f.buf)
		f.buf = nil
	}
}

// closeTimeout bounds the requests of Close, which runs after the run's
// context may have ended.
const closeTimeout = 30 * time.Second

// Close releases the lock. An upload whose version can be resumed (a
// record was saved and a part uploaded) is kept for the next run, its
// state object marked released; any other is aborted with its state.
// Bytes buffered and not uploaded are lost: the next run asks for them
// again.
func (f *file) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	f.end()
	if f.published || f.isLost() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if f.st.Upload != "" && f.st.Record != nil && len(f.st.Parts) > 0 {
		f.mu.Lock()
		f.st.Expires = time.Time{}
		f.mu.Unlock()
		_, err := f.b.putState(ctx, f.skey, &f.st, f.etag, "")
		if err != nil {
			return fmt.Errorf("release the lock of %s: %s", f.b.Where(f.name), apiMessage(err))
		}
		return nil
	}
	if f.st.Upload != "" {
		if err := f.abort(ctx, f.st.Upload); err != nil {
			return err
		}
	}
	if _, err := f.b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &f.b.bucket, Key: &f.skey}); err != nil {
		return fmt.Errorf("release the lock of %s: %s", f.b.Where(f.name), apiMessage(err))
	}
	return nil
}
