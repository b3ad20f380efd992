package downloader

// Parallel ranges: when fewer files remain than transfers are allowed, a
// large file is fetched as several byte ranges at once, written at their
// offsets into the same part, so that idle transfers are used. Every range
// request goes through the run's concurrency like any other, so the run
// never has more transfers in flight than it allows.
//
// A file is split only after its first answer proves that the service
// serves ranges of it (Accept-Ranges: bytes), names the version (a strong
// ETag or Last-Modified) and its size. That answer then streams the first
// range; the others are asked for with Range and If-Range. Each answer must
// be a 206 for exactly the range asked, of the same version: a 200 or
// another version empties the part and the file starts over (never
// splice), and a service that answers a range request with the whole file
// or with another range gets one stream from then on. The resume metadata
// lists the spans complete (partMeta.Done), saved every rangeSave bytes of
// a range and when an attempt ends, so that a later run asks only for the
// rest. Once every byte is in, the part is hashed from the disk (the ranges
// arrive out of order) and verified before it is published.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// rangeMin is the smallest range a file is split into: a file smaller
// than two of them is always one stream.
const rangeMin = 8 << 20

// errRangeAnswer is an answer to a range request that cannot be written
// into the part: the file starts over. oneStream says that the service
// does not serve ranges of it as asked.
type errRangeAnswer struct {
	msg       string
	oneStream bool
}

func (e *errRangeAnswer) Error() string {
	return fmt.Sprintf("%v: %s; starting over", ErrBadRange, e.msg)
}
func (e *errRangeAnswer) Unwrap() error { return ErrBadRange }

// firstAnswer is the answer to the file's first request, whose body
// streams the first range.
type firstAnswer struct {
	body   io.Reader
	head   []byte // bytes of the body already read (sniffed), not yet written
	ctx    context.Context
	cancel context.CancelCauseFunc // cuts the request
	close  func() error            // ends the request, freeing its transfer
}

// splitCount returns into how many ranges the file is fetched from pos
// (where the answer resp has come to) on: 1 unless the answer proves that
// ranges of the version in meta are served, at least two ranges of the
// file are left, and transfers would be idle. Idle transfers are shared
// among the files that remain. It is asked when the answer arrives and
// again as it streams, since files that end leave transfers idle.
func (j *job) splitCount(resp *http.Response, pos, total int64, meta partMeta) int {
	d := j.d
	if j.oneStream || d.rangeMin <= 0 || !j.loc.Features().WriteAt || !j.loc.Features().ReadBack || total-pos < 2*d.rangeMin || meta.Size != total || meta.validator() == "" ||
		(resp.StatusCode != http.StatusPartialContent && !acceptsRanges(resp.Header)) {
		return 1
	}
	limit, _, _ := d.conc.stats()
	n := int(max(min(int64(limit)/max(d.left.Load(), 1), (total-pos)/d.rangeMin), 1))
	if d.onSplit != nil {
		d.onSplit(n)
	}
	return n
}

// acceptsRanges reports whether h says that byte ranges are served.
func acceptsRanges(h http.Header) bool {
	for _, v := range h.Values("Accept-Ranges") {
		for u := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(u), "bytes") {
				return true
			}
		}
	}
	return false
}

// resumeRanges fetches the spans of a part fetched in ranges that are not
// complete yet, then verifies and publishes the file.
func (j *job) resumeRanges(ctx context.Context, meta partMeta) error {
	todo := missing(meta.Done, meta.Size)
	if len(todo) == 0 {
		return j.finishPart(ctx, meta.Size, meta)
	}
	var left int64
	for _, s := range todo {
		left += s.End - s.Start
	}
	j.setExpected(j.r.Bytes + left)
	limit, _, _ := j.d.conc.stats()
	n := max(int64(limit)/max(j.d.left.Load(), 1), 1)
	return j.fetchRanges(ctx, meta, int(n), nil)
}

// rangeRun is the fetching of one file's missing spans in parallel ranges
// into its part, within one attempt.
type rangeRun struct {
	j       *job
	bytes   atomic.Int64 // body bytes received
	retries atomic.Int64 // HTTP attempts made beyond the first of each range

	meta partMeta // the version; its Done is the spans at the start

	mu      sync.Mutex
	spans   []span // the spans in the part now
	changed bool   // spans grew since they were last saved
}

// fetchRanges fills the spans of meta's file missing from the file's slot
// with up to n transfers at once, then verifies and publishes the file. If
// first is given, its answer fills the first piece and ends there (closing
// a body early ends its connection: the service may count it until then).
func (j *job) fetchRanges(ctx context.Context, meta partMeta, n int, first *firstAnswer) error {
	rr := &rangeRun{j: j, meta: meta, spans: meta.Done}
	if len(meta.Done) > 0 {
		// Describe the part as ranges before any range is written: the
		// metadata of one stream would have a later run resume from the
		// part's length, across spans not received yet.
		rr.changed = true
		if err := rr.save(ctx); errors.Is(err, ErrNotRegular) {
			return err
		}
	}
	pieces := cut(missing(meta.Done, meta.Size), n, j.d.rangeMin)
	j.d.cfg.logger().Debug("fetching in ranges", "url", redact(j.e.URL), "ranges", len(pieces), "transfers", min(n, len(pieces)))
	queue := make(chan span, len(pieces))
	g, gctx := errgroup.WithContext(ctx)
	if first != nil {
		p := pieces[0]
		pieces = pieces[1:]
		g.Go(func() error {
			stop := context.AfterFunc(gctx, func() { first.cancel(context.Cause(gctx)) })
			defer stop()
			defer first.close()
			return rr.copy(first.ctx, first.body, first.head, p)
		})
		n--
	}
	for _, p := range pieces {
		queue <- p
	}
	close(queue)
	for range min(n, len(pieces)) {
		g.Go(func() error { return rr.drain(gctx, queue) })
	}
	err := g.Wait()
	// The ranges of an attempt count as one attempt (the first answer's,
	// when there is one), and each of their retries as one more.
	j.att.n += int(rr.retries.Load())
	if first == nil {
		j.att.n++
	}
	j.r.Bytes += rr.bytes.Load()
	if err != nil {
		var ra *errRangeAnswer
		if errors.As(err, &ra) {
			j.oneStream = j.oneStream || ra.oneStream
			j.discard(ctx)
			return err
		}
		if serr := rr.save(ctx); errors.Is(serr, ErrNotRegular) {
			return serr
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	// Every byte is in: hash the part from the disk, verify, publish.
	bufp := j.d.bufs.Get().(*[]byte)
	defer j.d.bufs.Put(bufp)
	hs := j.hashes()
	if err := hashPart(j.f, meta.Size, *bufp, hs); err != nil {
		return err
	}
	return j.publish(ctx, meta.Size, hs)
}

// drain fetches the spans of queue one after another.
func (rr *rangeRun) drain(ctx context.Context, queue <-chan span) error {
	for p := range queue {
		if err := rr.fetch(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// fetch asks for the span p of the file and writes the answer into the
// part.
func (rr *rangeRun) fetch(ctx context.Context, p span) error {
	j := rr.j
	reqCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	att := &attempts{budget: max(j.att.budget-j.att.n, 1)}
	defer func() { rr.retries.Add(int64(max(att.n-1, 0))) }()
	rng := strconv.FormatInt(p.Start, 10) + "-" + strconv.FormatInt(p.End-1, 10)
	resp, err := j.get(reqCtx, att, rng, rr.meta.validator()) // the validator does not change while ranges run
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := rr.check(resp, p); err != nil {
		return err
	}
	return rr.copy(reqCtx, resp.Body, nil, p)
}

// check accepts only a 206 for exactly p, of the part's version.
func (rr *rangeRun) check(resp *http.Response, p span) error {
	m := rr.meta
	asked := fmt.Sprintf("bytes %d-%d/%d", p.Start, p.End-1, m.Size)
	switch resp.StatusCode {
	case http.StatusPartialContent:
		if !sameVersion(m, resp.Header) {
			return &errRangeAnswer{msg: fmt.Sprintf("the answer to %s does not carry the validator %q (ETag %q, Last-Modified %q)",
				asked, m.validator(), resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))}
		}
		first, last, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || first != p.Start || last != p.End-1 || total != m.Size {
			return &errRangeAnswer{msg: fmt.Sprintf("asked for %s, got %q", asked, resp.Header.Get("Content-Range")), oneStream: true}
		}
		rr.mu.Lock()
		if rr.j.digest.kind == "" { // resumed without a whole answer in this run
			rr.j.digest, rr.j.lengthKnown = digestOf(resp.Header, m.Size, false), true
		}
		rr.mu.Unlock()
		return checkEncoding(resp.Header)
	case http.StatusOK:
		if sameVersion(m, resp.Header) {
			return &errRangeAnswer{msg: fmt.Sprintf("asked for %s, the service sent the whole file", asked), oneStream: true}
		}
		return &errRangeAnswer{msg: fmt.Sprintf("asked for %s of version %q, the service sent another version", asked, m.validator())}
	case http.StatusRequestedRangeNotSatisfiable:
		return &errRangeAnswer{msg: fmt.Sprintf("%s not satisfiable", asked)}
	}
	return statusErr(resp.StatusCode)
}

// copy writes the body of the answer for p into the part at p's offsets,
// after head (bytes of it already read), and records what it wrote as
// complete. A body that stalls is cut by the transport (httpguard).
func (rr *rangeRun) copy(ctx context.Context, body io.Reader, head []byte, p span) error {
	j, d := rr.j, rr.j.d
	rw := newRateWindow(d.cfg.MinRate, d.cfg.StallTimeout, d.now)
	bufp := d.bufs.Get().(*[]byte)
	defer d.bufs.Put(bufp)
	buf := *bufp

	pos, saved := p.Start, p.Start
	defer func() { rr.done(span{p.Start, pos}) }() // what is in the part, however it ends
	write := func(b []byte) error {
		if d.failWrite != nil {
			if err := d.failWrite(); err != nil {
				return fmt.Errorf("write partial file: %w", err)
			}
		}
		if _, err := j.f.WriteAt(b, pos); err != nil {
			return fmt.Errorf("write partial file: %w", err)
		}
		pos += int64(len(b))
		if pos-saved >= d.rangeSave || pos == p.End {
			j.writeback(saved, pos-saved)
			saved = pos
			rr.done(span{p.Start, pos})
			if err := rr.save(ctx); errors.Is(err, ErrNotRegular) {
				return err
			}
		}
		return nil
	}
	if len(head) > 0 {
		if err := write(head[:min(int64(len(head)), p.End-pos)]); err != nil {
			return err
		}
	}
	body = io.LimitReader(body, p.End-pos)
	var rerr error
	for rerr == nil && pos < p.End {
		var n int
		n, rerr = d.readBody(ctx, body, buf, &rw)
		rr.bytes.Add(int64(n))
		if err := write(buf[:n]); err != nil {
			return err
		}
		if rerr == nil && ctx.Err() != nil {
			rerr = context.Cause(ctx)
		}
	}
	if pos == p.End {
		return nil
	}
	if rerr == io.EOF {
		rerr = io.ErrUnexpectedEOF
	}
	j.d.cfg.logger().Debug("range cut", "url", redact(j.e.URL), "start", p.Start, "end", p.End, "at", pos)
	return fmt.Errorf("%w: range %d-%d: %d of %d bytes received: %w", ErrIncomplete, p.Start, p.End-1, pos-p.Start, p.End-p.Start, rerr)
}

// done records the span s as complete in the part.
func (rr *rangeRun) done(s span) {
	if s.End <= s.Start {
		return
	}
	rr.mu.Lock()
	rr.spans = addSpan(rr.spans, s)
	rr.changed = true
	rr.mu.Unlock()
}

// save writes the resume metadata with the spans complete, if it changed.
// When it cannot, the part is left with what it had: a crash or the end
// of the entry then restarts it or removes it.
func (rr *rangeRun) save(ctx context.Context) error {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if !rr.changed {
		return nil
	}
	j := rr.j
	m := rr.meta
	m.Done = rr.spans
	if err := j.f.Save(ctx, m.record()); err != nil {
		if !errors.Is(err, ErrNotRegular) {
			j.d.cfg.logger().Warn("partial file cannot be resumed: its resume metadata was not written", "url", redact(j.e.URL), "error", err)
		}
		return err
	}
	rr.changed = false
	if j.d.onRangeSave != nil {
		j.d.onRangeSave(slices.Clone(rr.spans))
	}
	return nil
}

// addSpan returns done with s added, sorted and merged.
func addSpan(done []span, s span) []span {
	out := make([]span, 0, len(done)+1)
	for _, d := range done {
		switch {
		case d.End < s.Start:
			out = append(out, d)
		case s.End < d.Start:
			out = append(out, s)
			s = d
		default: // they overlap or touch
			s = span{min(s.Start, d.Start), max(s.End, d.End)}
		}
	}
	return append(out, s)
}

// missing returns the spans of [0, size) that done does not cover.
func missing(done []span, size int64) []span {
	var out []span
	var at int64
	for _, d := range done {
		if d.Start > at {
			out = append(out, span{at, d.Start})
		}
		at = max(at, d.End)
	}
	if at < size {
		out = append(out, span{at, size})
	}
	return out
}

// cut divides spans into about n pieces of equal length, none shorter
// than least unless a span is.
func cut(spans []span, n int, least int64) []span {
	var total int64
	for _, s := range spans {
		total += s.End - s.Start
	}
	piece := max(total/int64(max(n, 1)), least, 1)
	var out []span
	for _, s := range spans {
		k := max((s.End-s.Start)/piece, 1)
		step := (s.End - s.Start + k - 1) / k
		for a := s.Start; a < s.End; a += step {
			out = append(out, span{a, min(a+step, s.End)})
		}
	}
	return out
}
