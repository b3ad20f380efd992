package downloader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"
)

// writebackChunk is how many bytes of the part are written between two
// calls to startWriteback: each completed chunk is handed to the disk while
// the rest of the body arrives, so that the fsync before the rename waits
// for at most about one chunk instead of the whole file.
const writebackChunk = 8 << 20

// attempt makes one request (retried by the HTTP layer within the budget),
// streams the body into the part, verifies and publishes it.
func (j *job) attempt(ctx context.Context) error {
	offset, meta, err := j.resumePoint(ctx)
	if err != nil {
		return err
	}
	if meta.Done != nil {
		return j.resumeRanges(ctx, meta)
	}
	if offset > 0 && offset == meta.Size {
		// A previous run received everything but did not publish it.
		return j.finishPart(ctx, offset, meta)
	}
	j.keep = nil
	if offset > 0 && j.needsKeep() {
		if err := j.fetchHead(ctx, meta, offset); err != nil {
			return err
		}
	}
	// The request has its own context so that the ranges it may hand its
	// body to can cut it without cancelling the run. A stalled body is cut
	// by the transport (httpguard).
	reqCtx, cancelReq := context.WithCancelCause(ctx)
	defer cancelReq(nil)
	rng, validator := "", ""
	if offset > 0 {
		rng, validator = strconv.FormatInt(offset, 10)+"-", meta.validator()
	}
	resp, err := j.get(reqCtx, &j.att, rng, validator)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	j.rate = newRateWindow(j.d.cfg.MinRate, j.d.cfg.StallTimeout, j.d.now)

	total, err := j.checkAnswer(ctx, resp, offset, meta)
	if err != nil {
		return err
	}
	j.digest, j.lengthKnown, j.total = digestOf(resp.Header, total, resp.StatusCode == http.StatusOK), total >= 0, total
	if resp.StatusCode == http.StatusPartialContent {
		if err := j.digestResumable(ctx); err != nil {
			return err
		}
	}
	if err := checkEncoding(resp.Header); err != nil {
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
	limit, err := j.bodyLimit(total, offset)
	if err != nil {
		return err
	}
	body := io.LimitReader(resp.Body, limit+1)

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
			m, rerr = j.read(ctx, body, buf[n:sniffLen])
			n += m
		}
		head = buf[:n]
		if j.expectsBinary() && looksLikePage(head) {
			return fmt.Errorf("%w (the body starts with %q)", ErrHTMLPage, printable(head, 40))
		}
	}

	hs := j.hashes()
	metaPending := false // the meta of this new version is not written yet
	if offset == 0 {
		// Remove the metadata of what the part held before emptying it, so
		// that the metadata never describes bytes of another version. The
		// new version's is written only once worth it (see metaAfter).
		if err := j.discard(ctx); err != nil {
			return err
		}
		meta = partMeta{URLDigest: urlDigest(j.e.URL), ETag: strongETag(resp.Header.Get("ETag")),
			LastModified: strongLastModified(resp.Header), Size: total}
		metaPending = true
		if j.needsKeep() {
			j.keep = newStreamKeep(total, 0)
		}
	} else if j.streamChecks() {
		if err := resumeDigests(hs, j.digests); err != nil {
			j.discard(ctx)
			return err
		}
	} else {
		if err := hashPart(j.f, offset, buf, hs); err != nil {
			return err
		}
		j.rate = newRateWindow(j.d.cfg.MinRate, j.d.cfg.StallTimeout, j.d.now)
	}
	if total > offset {
		j.preallocate(offset, total-offset) // a hint; the writes report a full disk
	}
	var received int64
	// split hands the rest of this answer and of the file to n ranges when
	// transfers are idle: the answer goes on as the first of them.
	split := func(n int, head []byte) error {
		m := meta
		if pos := offset + received; pos > 0 {
			m.Done = []span{{0, pos}}
		}
		return j.fetchRanges(ctx, m, n, &firstAnswer{body: body, head: head, cancel: cancelReq, ctx: reqCtx, close: resp.Body.Close})
	}
	if n := j.splitCount(resp, offset, total, meta); n > 1 {
		return split(n, head)
	}
	ws := append([]io.Writer{io.NewOffsetWriter(j.f, offset)}, hashWriters(hs)...)
	if j.keep != nil {
		ws = append(ws, j.keep)
	}
	w := io.MultiWriter(ws...)

	flushed := offset // bytes of the part handed to startWriteback
	checked := offset // where idle transfers were last looked for
	write := func(p []byte) error {
		if j.d.failWrite != nil {
			if err := j.d.failWrite(); err != nil {
				return fmt.Errorf("write partial file: %w", err)
			}
		}
		if _, err := w.Write(p); err != nil {
			return fmt.Errorf("write partial file: %w", err)
		}
		received += int64(len(p))
		if end := offset + received; end-flushed >= writebackChunk {
			j.writeback(flushed, end-flushed)
			flushed = end
		}
		if metaPending && received >= metaAfter && offset+received < total {
			return j.saveMeta(ctx, meta, &metaPending)
		}
		return nil
	}
	if err := write(head); err != nil {
		return err
	}
	for rerr == nil {
		var n int
		n, rerr = j.read(ctx, body, buf)
		if err := write(buf[:n]); err != nil {
			if isStorageFull(err) && received > 0 {
				j.saveMeta(ctx, meta, &metaPending) // the next run resumes it
			}
			return err
		}
		if rerr == nil && ctx.Err() != nil {
			rerr = ctx.Err() // stop promptly even if buffered bytes remain
		}
		// Files ended since this one started: use the transfers they left.
		if pos := offset + received; rerr == nil && pos-checked >= j.d.rangeSave {
			checked = pos
			if n := j.splitCount(resp, pos, total, meta); n > 1 {
				return split(n, nil)
			}
		}
	}
	if received > limit {
		j.discard(ctx)
		return j.overLimit(total, offset, limit)
	}
	size := offset + received
	if rerr != io.EOF || (total >= 0 && size < total) {
		// Interrupted while this process lives on: describe the bytes
		// received so that the next attempt or the next run resumes them.
		if received > 0 {
			if err := j.saveMeta(ctx, meta, &metaPending); errors.Is(err, ErrNotRegular) {
				return err
			} else if err != nil {
				j.d.cfg.logger().Warn("partial file cannot be resumed: its resume metadata was not written", "url", redact(j.e.URL), "error", err)
			}
		}
	}
	if rerr != io.EOF {
		// Interrupted: keep the part and its metadata for the next attempt
		// or the next run.
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %d of %s bytes received: %w", ErrIncomplete, offset+received, sizeString(total), rerr)
	}
	if total >= 0 && size < total {
		return fmt.Errorf("%w: %d of %d bytes received", ErrIncomplete, size, total)
	}
	if total >= 0 && size != total {
		j.discard(ctx)
		return fmt.Errorf("%w: received %d bytes, the service announced %d", ErrSizeMismatch, size, total)
	}
	return j.publish(ctx, size, hs)
}

// checkAnswer maps the status of the answer to a request for the part from
// offset to the file's total size (-1 if unknown), or to the error that
// ends the attempt. A 206 must continue the part exactly: from offset, of
// the same version and size; anything else empties the part.
func (j *job) checkAnswer(ctx context.Context, resp *http.Response, offset int64, meta partMeta) (int64, error) {
	switch resp.StatusCode {
	case http.StatusOK:
		return resp.ContentLength, nil
	case http.StatusPartialContent:
		start, end, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if offset == 0 || !ok || start != offset || size != meta.Size || end != size-1 {
			j.discard(ctx)
			return 0, fmt.Errorf("%w: asked for bytes %d- of %d, got %q", ErrBadRange, offset, meta.Size, resp.Header.Get("Content-Range"))
		}
		if !sameVersion(meta, resp.Header) {
			// Never splice: without proof that the rest belongs to the
			// version in the part, start over.
			j.discard(ctx)
			return 0, fmt.Errorf("%w: the answer to a resume does not carry the validator %q of the partial file (ETag %q, Last-Modified %q); starting over",
				ErrBadRange, meta.validator(), resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))
		}
		return size, nil
	case http.StatusRequestedRangeNotSatisfiable:
		if offset > 0 {
			j.discard(ctx) // the part does not fit the file any more: start over
			return 0, fmt.Errorf("%w: range %d- not satisfiable", ErrBadRange, offset)
		}
		return 0, &statusError{resp.StatusCode, ErrHTTPStatus}
	default:
		return 0, statusErr(resp.StatusCode)
	}
}

// statusErr is the error that ends an attempt answered with code.
func statusErr(code int) error {
	switch code {
	case http.StatusNotFound:
		return &statusError{code, ErrNotFound}
	case http.StatusForbidden:
		return &statusError{code, ErrForbidden}
	case http.StatusUnauthorized:
		return &statusError{code, ErrUnauthorized}
	default:
		return &statusError{code, ErrHTTPStatus}
	}
}

// get sends the file's GET, for bytes rng ("a-" or "a-b") with If-Range
// validator when rng is not "", charging the attempts to att. The request
// is traced so that the file counts as tried once it heads for the
// service (see tracedDial). On an error no body is left open.
func (j *job) get(ctx context.Context, att *attempts, rng, validator string) (*http.Response, error) {
	req, err := retryablehttp.NewRequestWithContext(withAttempts(ctx, att), http.MethodGet, j.e.URL, nil)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a secret
		}
		return nil, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	req = req.WithContext(tracedDial(req.Context(), &j.att, hostPort(req.URL)))
	// No transparent gzip: lengths and ranges must count the file's bytes.
	req.Header.Set("Accept-Encoding", "identity")
	if rng != "" {
		req.Header.Set("Range", "bytes="+rng)
		req.Header.Set("If-Range", validator)
	}
	resp, err := j.d.client.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	return resp, nil
}

// read reads into p from the body of the job's current request (see
// readBody) and counts what it read for the entry.
func (j *job) read(ctx context.Context, body io.Reader, p []byte) (int, error) {
	n, err := j.d.readBody(ctx, body, p, &j.rate)
	j.r.Bytes += int64(n)
	return n, err
}

// readBody reads into p from body, at most the limiter's burst, and waits
// for the limiter to allow what was read; rw cuts a body that trickles.
// Each read has its own deadline in the transport (httpguard), so the
// wait for the limiter is never a stall.
//
// It makes one read: over TLS that is one record, at most 16 KiB, written
// to the part as it is. Gathering records into reads of 32 to 128 KiB was
// measured and cost more CPU, not less: the kernel's copy of larger writes
// into the page cache grew more than the per-read costs shrank
// (docs/BENCHMARKS.md, "TLS: gathering reads").
func (d *Downloader) readBody(ctx context.Context, body io.Reader, p []byte, rw *rateWindow) (int, error) {
	lim := d.cfg.Limiter
	limited := lim != nil && lim.Limit() != rate.Inf
	if limited && lim.Burst() > 0 && len(p) > lim.Burst() {
		p = p[:lim.Burst()]
	}
	n, err := body.Read(p)
	if n > 0 {
		d.bytesDone.Add(int64(n))
		if limited {
			if werr := lim.WaitN(ctx, n); werr != nil && err == nil {
				err = werr
			}
		}
		if rerr := rw.add(n); rerr != nil && err == nil {
			err = rerr
		}
	}
	return n, err
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
