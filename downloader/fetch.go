package downloader

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/manifest"
)

// metaAfter is how many bytes of a new version a transfer receives before
// it writes the part's metadata (<name>.part.meta), if the file is not
// complete by then. The metadata is what lets a part survive a crash; an
// attempt that ends early while the process lives (a cut body, a stall, a
// cancelled run) writes it anyway. A metadata file costs the folder about
// as much work as receiving this many bytes (docs/BENCHMARKS.md), so a file
// up to this size never gets one, and a crash costs at most this much again
// per file in flight.
const metaAfter = 256 << 10

// writebackChunk is how many bytes of the part are written between two
// calls to startWriteback: each completed chunk is handed to the disk while
// the rest of the body arrives, so that the fsync before the rename waits
// for at most about one chunk instead of the whole file.
const writebackChunk = 8 << 20

// sniffLen is how many leading bytes of a body are inspected for a web page.
const sniffLen = 512

// job is the download of one entry.
type job struct {
	d       *Downloader
	e       manifest.Entry
	r       *Result
	final   string
	part    string
	meta    string
	att     attempts
	stall   *time.Timer // cuts the current request when no data arrives
	contrib int64       // this entry's share of Progress.BytesExpected

	lock *partLock // held on the part from the first attempt to the end
	// metaOnDisk: a file exists at meta (read or written by this job);
	// metaUnknown: the part was there before the lock was taken, and
	// whether a meta is beside it has not been looked at yet. A part created
	// by this job has no meta (a meta never outlives its part), so nothing
	// is looked up or removed for it unless this job writes one.
	metaOnDisk, metaUnknown bool
	published               bool // the part was renamed to the final name
}

// redact returns raw for errors and logs: without a query or user
// information, which may hold a signature or a password.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = "…", false
	}
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	return u.String()
}

func (d *Downloader) path(e manifest.Entry) string { return filepath.Join(d.cfg.Dir, e.Name) }

// fetch downloads one entry and reports how it ended.
func (d *Downloader) fetch(ctx context.Context, e manifest.Entry) Result {
	start := time.Now()
	r := Result{Entry: e, Path: d.path(e)}
	j := &job{d: d, e: e, r: &r, final: r.Path, part: r.Path + ".part", meta: r.Path + ".part.meta",
		att: attempts{budget: d.cfg.Attempts}, contrib: max(e.Size, 0)}
	err := j.run(ctx)
	r.Attempts = j.att.n
	switch {
	case r.Status != "":
	case err == nil:
		r.Status = Downloaded
	case errors.Is(err, ErrNotFound) && e.MayBeMissing:
		r.Status = Missing
	default:
		r.Status = Failed
		var ue *url.Error
		if errors.As(err, &ue) && err == error(ue) {
			err = ue.Err // it would repeat the URL named here
		}
		r.Err = fmt.Errorf("download %s: %w", redact(e.URL), err)
		// The caller reports how each file ended; this is for -v.
		d.cfg.logger().Debug("download failed", "url", redact(e.URL), "attempts", r.Attempts, "error", err)
	}
	j.setExpected(r.Bytes) // nothing more will come for this entry
	r.Duration = time.Since(start)
	return r
}

// run takes the file's lock and makes attempts until the file is published,
// a final error occurs, or the budget is spent.
func (j *job) run(ctx context.Context) error {
	if n := j.e.Name; n == "" || n == "." || n == ".." || filepath.Base(n) != n || strings.ContainsAny(n, `/\`) {
		return fmt.Errorf("%w: %q", ErrBadName, n)
	}
	if j.skip() {
		return nil
	}
	lock, created, err := lockPart(ctx, j.part, j.d.lockBusy)
	if err != nil {
		return err
	}
	j.lock, j.metaUnknown = lock, !created
	defer j.unlock()
	if j.skip() { // another process finished it while we waited
		return nil
	}
	refusals := 0
	for {
		err = j.attempt(ctx)
		if err == nil || j.published || ctx.Err() != nil || j.att.n >= j.att.budget {
			return err
		}
		// A 401 after a refresh usually means the fresh token was revoked
		// again before this request used it (the service dropped its
		// tokens, or another worker's refresh rotated them): the next
		// attempt picks up the current token. A service that refuses
		// every token still ends the file after a few tries.
		if errors.Is(err, auth.ErrTokenRefused) && refusals < maxRefusals {
			refusals++
		} else if isFinal(err) {
			return err
		}
		j.d.cfg.logger().Debug("retrying download", "url", redact(j.e.URL), "attempts", j.att.n, "error", err)
	}
}

// skip reports (and records) that the file is already complete at its final
// name. Without Force, a regular file there is trusted unless the manifest
// gives a size and the file's differs: then it is downloaded again.
func (j *job) skip() bool {
	if j.d.cfg.Force {
		return false
	}
	fi, err := os.Stat(j.final)
	if err != nil || !fi.Mode().IsRegular() || (j.e.Size >= 0 && fi.Size() != j.e.Size) {
		return false
	}
	j.r.Status, j.r.Size = Skipped, fi.Size()
	return true
}

// unlock releases the part's lock, first removing the part (and its meta)
// if it holds no byte: a failed or skipped file leaves no empty part.
func (j *job) unlock() {
	remove := false
	if !j.published {
		if n, err := j.lock.size(); err == nil && n == 0 {
			j.removeMeta()
			remove = true
		}
	}
	j.lock.unlock(remove)
}

// setExpected sets this entry's share of Progress.BytesExpected.
func (j *job) setExpected(v int64) {
	j.d.bytesExpected.Add(v - j.contrib)
	j.contrib = v
}

// maxRefusals is how many times one file is tried again after the service
// refused a freshly renewed token.
const maxRefusals = 2

// isFinal reports errors that another attempt of the same file cannot cure.
func isFinal(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return !retryableStatus(se.code)
	}
	return isPermanentError(err) || errors.Is(err, errSizeAnnounced)
}

// statusError is an HTTP status that ends an attempt.
type statusError struct {
	code int
	err  error // a sentinel
}

func (e *statusError) Error() string {
	if e.err == ErrHTTPStatus {
		return fmt.Sprintf("%v %d %s", ErrHTTPStatus, e.code, http.StatusText(e.code))
	}
	return e.err.Error()
}

func (e *statusError) Unwrap() error { return e.err }

// errSizeAnnounced is an ErrSizeMismatch found in the response
// headers, before any byte is received: the service serves a file of another
// size than the manifest says, and another attempt will not change that.
var errSizeAnnounced = fmt.Errorf("%w (announced by the service)", ErrSizeMismatch)

// resumePoint returns how many bytes of the part can be resumed and the
// metadata describing them. A part whose metadata is missing, names another
// URL or size, or has no validator is discarded.
func (j *job) resumePoint() (int64, partMeta) {
	size, err := j.lock.size()
	if err != nil || (size == 0 && !j.metaUnknown) {
		return 0, partMeta{}
	}
	m, err := readMeta(j.meta)
	j.metaOnDisk, j.metaUnknown = !errors.Is(err, fs.ErrNotExist), false
	if size == 0 {
		return 0, partMeta{}
	}
	if err == nil && m.URL == j.e.URL && m.validator() != "" && size <= m.Size &&
		(j.e.Size < 0 || m.Size == j.e.Size) {
		return size, m
	}
	j.discard()
	return 0, partMeta{}
}

// discard empties the part and removes its metadata. The part itself stays
// while the lock is held (see lockPart); unlock removes it if still empty.
func (j *job) discard() {
	j.removeMeta()
	os.Truncate(j.part, 0)
}

// removeMeta removes the part's metadata if this job knows it exists.
func (j *job) removeMeta() {
	if j.metaOnDisk {
		os.Remove(j.meta)
		j.metaOnDisk = false
	}
}

// saveMeta writes the metadata of the version being received beside the
// part, once; it does nothing for a version that cannot be resumed.
func (j *job) saveMeta(m partMeta, pending *bool) error {
	if !*pending {
		return nil
	}
	*pending = false
	if m.validator() == "" || m.Size < 0 {
		return nil
	}
	if err := writeMeta(j.meta, m); err != nil {
		return err
	}
	j.metaOnDisk = true
	return nil
}

// attempt makes one request (retried by the HTTP layer within the budget),
// streams the body into the part, verifies and publishes it.
func (j *job) attempt(ctx context.Context) error {
	offset, meta := j.resumePoint()
	if offset > 0 && offset == meta.Size {
		// A previous run received everything but did not publish it.
		return j.finishPart(ctx, offset, meta)
	}
	// The request has its own context so that a stalled body can be cut
	// without cancelling the run.
	reqCtx, cancelReq := context.WithCancelCause(ctx)
	defer cancelReq(nil)
	req, err := retryablehttp.NewRequestWithContext(withAttempts(reqCtx, &j.att), http.MethodGet, j.e.URL, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHTTPStatus, err) // a malformed URL: final
	}
	// No transparent gzip: lengths and ranges must count the file's bytes.
	req.Header.Set("Accept-Encoding", "identity")
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
		req.Header.Set("If-Range", meta.validator())
	}
	resp, err := j.d.client.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return err
	}
	defer resp.Body.Close()
	j.stall = time.AfterFunc(j.d.cfg.StallTimeout, func() { cancelReq(ErrStalled) })
	defer j.stall.Stop()

	total, err := j.checkAnswer(resp, offset, meta)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusOK {
		offset = 0 // a full answer: start over, never splice
	}
	if j.expectsBinary() && isPageType(resp.Header.Get("Content-Type")) {
		return fmt.Errorf("%w (Content-Type %s)", ErrHTMLPage, resp.Header.Get("Content-Type"))
	}
	if total >= 0 && j.e.Size >= 0 && total != j.e.Size {
		return fmt.Errorf("%w: the service announces %d bytes, the manifest %d", errSizeAnnounced, total, j.e.Size)
	}
	if total >= 0 {
		j.setExpected(j.r.Bytes + total - offset)
	}

	bufp := j.d.bufs.Get().(*[]byte)
	defer j.d.bufs.Put(bufp)
	buf := *bufp

	// Look at the start of a full answer before touching the part: a web
	// page must not replace bytes worth resuming.
	var head []byte
	var rerr error
	if offset == 0 {
		var n int
		for n < sniffLen && rerr == nil {
			var m int
			m, rerr = j.read(ctx, resp.Body, buf[n:sniffLen])
			n += m
		}
		head = buf[:n]
		if j.expectsBinary() && looksLikePage(head) {
			return fmt.Errorf("%w (the body starts with %q)", ErrHTMLPage, printable(head, 40))
		}
	}

	f, err := os.OpenFile(j.part, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open partial file: %w", err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	hs := j.hashes()
	metaPending := false // the meta of this new version is not written yet
	if offset == 0 {
		// Remove the metadata of what the part held before emptying it, so
		// that the metadata never describes bytes of another version. The
		// new version's is written only once worth it (see metaAfter).
		j.removeMeta()
		if fi, err := f.Stat(); err != nil || fi.Size() > 0 {
			if err := f.Truncate(0); err != nil {
				return fmt.Errorf("truncate partial file: %w", err)
			}
		}
		meta = partMeta{URL: j.e.URL, ETag: strongETag(resp.Header.Get("ETag")),
			LastModified: resp.Header.Get("Last-Modified"), Size: total}
		metaPending = true
	} else {
		j.stall.Stop() // hashing a large part is not a stall
		if err := hashPart(f, offset, buf, hs); err != nil {
			return err
		}
		j.stall.Reset(j.d.cfg.StallTimeout)
	}
	if total > offset {
		preallocate(f, offset, total-offset) // a hint; the writes report a full disk
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Errorf("seek partial file: %w", err)
	}
	w := io.MultiWriter(append([]io.Writer{f}, hashWriters(hs)...)...)

	var received int64
	flushed := offset // bytes of the part handed to startWriteback
	write := func(p []byte) error {
		if _, err := w.Write(p); err != nil {
			return fmt.Errorf("write partial file: %w", err)
		}
		received += int64(len(p))
		if end := offset + received; end-flushed >= writebackChunk {
			j.d.writeback(f, flushed, end-flushed)
			flushed = end
		}
		if metaPending && received >= metaAfter && offset+received < total {
			return j.saveMeta(meta, &metaPending)
		}
		return nil
	}
	if err := write(head); err != nil {
		return err
	}
	for rerr == nil {
		var n int
		n, rerr = j.read(ctx, resp.Body, buf)
		if err := write(buf[:n]); err != nil {
			return err
		}
		if rerr == nil && ctx.Err() != nil {
			rerr = ctx.Err() // stop promptly even if buffered bytes remain
		}
	}
	size := offset + received
	if rerr != io.EOF || (total >= 0 && size < total) {
		// Interrupted while this process lives on: describe the bytes
		// received so that the next attempt or the next run resumes them.
		if received > 0 {
			if err := j.saveMeta(meta, &metaPending); err != nil {
				j.d.cfg.logger().Warn("partial file kept without resume metadata", "url", redact(j.e.URL), "error", err)
			}
		}
	}
	if rerr != io.EOF {
		// Interrupted: keep the part and its metadata for the next attempt
		// or the next run.
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if context.Cause(reqCtx) == ErrStalled {
			rerr = fmt.Errorf("%w after %v", ErrStalled, j.d.cfg.StallTimeout)
		}
		return fmt.Errorf("%w: %d of %s bytes received: %w", ErrIncomplete, offset+received, sizeString(total), rerr)
	}
	if total >= 0 && size < total {
		return fmt.Errorf("%w: %d of %d bytes received", ErrIncomplete, size, total)
	}
	if total >= 0 && size != total {
		j.discard()
		return fmt.Errorf("%w: received %d bytes, the service announced %d", ErrSizeMismatch, size, total)
	}
	ff := f
	f = nil
	return j.publish(ff, size, hs)
}

// checkAnswer maps the status of the answer to a request for the part from
// offset to the file's total size (-1 if unknown), or to the error that
// ends the attempt. A 206 must continue the part exactly: from offset, of
// the same version and size; anything else empties the part.
func (j *job) checkAnswer(resp *http.Response, offset int64, meta partMeta) (int64, error) {
	switch resp.StatusCode {
	case http.StatusOK:
		return resp.ContentLength, nil
	case http.StatusPartialContent:
		start, end, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		etag := strongETag(resp.Header.Get("ETag"))
		if offset == 0 || !ok || start != offset || size != meta.Size || end != size-1 ||
			(meta.ETag != "" && etag != "" && etag != meta.ETag) {
			j.discard()
			return 0, fmt.Errorf("%w: asked for bytes %d- of %d, got %q", ErrBadRange, offset, meta.Size, resp.Header.Get("Content-Range"))
		}
		return size, nil
	case http.StatusRequestedRangeNotSatisfiable:
		if offset > 0 {
			j.discard() // the part does not fit the file any more: start over
			return 0, fmt.Errorf("%w: range %d- not satisfiable", ErrBadRange, offset)
		}
		return 0, &statusError{resp.StatusCode, ErrHTTPStatus}
	case http.StatusNotFound:
		return 0, &statusError{resp.StatusCode, ErrNotFound}
	case http.StatusForbidden:
		return 0, &statusError{resp.StatusCode, ErrForbidden}
	case http.StatusUnauthorized:
		return 0, &statusError{resp.StatusCode, ErrUnauthorized}
	default:
		return 0, &statusError{resp.StatusCode, ErrHTTPStatus}
	}
}

// read reads into p from body, at most the limiter's burst, and waits for
// the limiter to allow what was read.
func (j *job) read(ctx context.Context, body io.Reader, p []byte) (int, error) {
	lim := j.d.cfg.Limiter
	if lim != nil && lim.Limit() != rate.Inf && lim.Burst() > 0 && len(p) > lim.Burst() {
		p = p[:lim.Burst()]
	}
	n, err := body.Read(p)
	if n > 0 {
		j.r.Bytes += int64(n)
		j.d.bytesDone.Add(int64(n))
		if lim != nil && lim.Limit() != rate.Inf {
			j.stall.Stop() // waiting for the limiter is not a stall
			if werr := lim.WaitN(ctx, n); werr != nil && err == nil {
				err = werr
			}
		}
		j.stall.Reset(j.d.cfg.StallTimeout)
	}
	return n, err
}

// finishPart verifies and publishes a part that already holds every byte.
func (j *job) finishPart(ctx context.Context, size int64, meta partMeta) error {
	f, err := os.OpenFile(j.part, os.O_RDWR, 0)
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
	return j.publish(f, size, hs)
}

// publish verifies the complete part f and renames it to the final name:
// Sync, Close, Rename, fsync of the folder. On a failed verification the part
// and its metadata are removed. publish closes f.
func (j *job) publish(f *os.File, size int64, hs fileHashes) error {
	if err := j.verify(f, size, hs); err != nil {
		f.Close()
		j.discard()
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
		return fmt.Errorf("publish %s: %w", j.final, err)
	}
	j.published = true
	if err := syncDir(j.d.cfg.Dir); err != nil {
		return fmt.Errorf("publish %s: %w", j.final, err)
	}
	j.r.Size = size
	j.r.SHA256 = hex.EncodeToString(hs.sha256.Sum(nil))
	return nil
}

// verify checks the complete part against the manifest and its format.
func (j *job) verify(f *os.File, size int64, hs fileHashes) error {
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
	if err := checkFormat(j.e.Name, f, size); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return nil
}

// fileHashes are the digests computed over the whole file.
type fileHashes struct {
	sha256 hash.Hash
	md5    hash.Hash // nil unless the manifest gives an MD5
}

func (j *job) hashes() fileHashes {
	hs := fileHashes{sha256: sha256.New()}
	if j.e.MD5 != "" {
		hs.md5 = md5.New()
	}
	return hs
}

func hashWriters(hs fileHashes) []io.Writer {
	if hs.md5 != nil {
		return []io.Writer{hs.sha256, hs.md5}
	}
	return []io.Writer{hs.sha256}
}

// hashPart feeds the first n bytes of f to hs, through buf.
func hashPart(f *os.File, n int64, buf []byte, hs fileHashes) error {
	w := io.MultiWriter(hashWriters(hs)...)
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

// expectsBinary reports whether the entry is a binary file, for which a web
// page or JSON document is a sign of an error page.
func (j *job) expectsBinary() bool {
	switch strings.ToLower(filepath.Ext(j.e.Name)) {
	case ".html", ".htm", ".json", ".geojson", ".xml", ".txt", ".csv":
		return false
	}
	return true
}

// isPageType reports Content-Types of web pages and JSON documents.
func isPageType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "text/html" || mt == "application/xhtml+xml" || mt == "application/json" ||
		strings.HasSuffix(mt, "+json")
}

// looksLikePage reports a body that starts like an HTML or JSON document.
func looksLikePage(b []byte) bool {
	s := strings.TrimLeft(strings.TrimPrefix(string(b), "\ufeff"), " \t\r\n")
	ls := strings.ToLower(s[:min(len(s), 16)])
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body", "<!--", "<?xml"} {
		if strings.HasPrefix(ls, p) {
			return true
		}
	}
	if len(s) < 2 || (s[0] != '{' && s[0] != '[') {
		return false
	}
	t := strings.TrimLeft(s[1:], " \t\r\n")
	return t != "" && (t[0] == '"' || t[0] == '}' || t[0] == '{' || t[0] == ']')
}

// printable returns the first n bytes of b with control bytes replaced.
func printable(b []byte, n int) string {
	r := []rune(string(b[:min(len(b), n)]))
	for i, c := range r {
		if c < 0x20 || c == 0x7f || c == '\ufffd' {
			r[i] = '.'
		}
	}
	return string(r)
}

// parseContentRange parses "bytes first-last/total".
func parseContentRange(v string) (first, last, total int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	first, err1 = strconv.ParseInt(a, 10, 64)
	last, err2 = strconv.ParseInt(b, 10, 64)
	total, err3 = strconv.ParseInt(tot, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || first < 0 || last < first || total <= last {
		return 0, 0, 0, false
	}
	return first, last, total, true
}

func sizeString(n int64) string {
	if n < 0 {
		return "unknown"
	}
	return strconv.FormatInt(n, 10)
}
