package downloader

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/manifest"
	"github.com/wcdl/wcdl/output"
)

// job is the download of one entry.
type job struct {
	d       *Downloader
	loc     output.Location
	e       manifest.Entry
	r       *Result
	att     attempts
	rate    rateWindow // cuts the current request when data trickles
	contrib int64      // this entry's share of Progress.BytesExpected
	sized   bool       // contrib is known: counted out of Progress.FilesUnsized

	f         output.File // the file's slot, held from the first attempt to the end
	published bool        // Publish was called: the slot is spent
	// oneStream: the service answered a range request with the whole file
	// or another range; the file is fetched as one stream from now on.
	oneStream bool
	// digest is what the service published as the digest of the version
	// being fetched (digest.go); lengthKnown: its length was announced.
	digest      sourceDigest
	lengthKnown bool
	// total is the length the current location announced (-1: none yet);
	// seen, the lengths the locations tried announced (fallback.go).
	total int64
	seen  []sizeSeen
	// checked is what verify checked the file against (Result.Checked).
	checked []string

	// For a location without read-back (see stream.go): keep holds what
	// the format check reads, digests the state of the digests of the
	// bytes held when the slot was opened.
	keep    *streamKeep
	digests map[string][]byte
}

// fetch downloads one entry into loc and reports how it ended.
func (d *Downloader) fetch(ctx context.Context, loc output.Location, e manifest.Entry) Result {
	start := time.Now()
	r := Result{Entry: e, Path: loc.Where(e.Name)}
	j := &job{d: d, loc: loc, e: e, r: &r, att: attempts{budget: d.cfg.Attempts}, contrib: max(e.Size, 0), sized: e.Size >= 0, total: -1}
	err := j.run(ctx)
	r.Attempts, r.tried = j.att.n, j.att.dialed.Load()
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
		err = redactErr(err)
		r.Err = fmt.Errorf("download %s: %w", redact(j.e.URL), err)
		// The caller reports how each file ended; this is for -v.
		d.cfg.logger().Debug("download failed", "url", redact(j.e.URL), "attempts", r.Attempts, "error", err)
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
	if skip, err := j.skip(ctx); skip || err != nil {
		return err
	}
	f, err := j.loc.Open(ctx, j.e.Name, j.onLockBusy())
	if err != nil {
		return err
	}
	j.f = f
	defer f.Close()                                   // keeps what a later run can resume, removes the rest
	if skip, err := j.skip(ctx); skip || err != nil { // another process finished it while we waited
		return err
	}
	return j.fromLocations(ctx)
}

// fromHere makes attempts at the job's current URL until the file is
// published, a final error occurs, or the budget is spent.
func (j *job) fromHere(ctx context.Context) error {
	var err error
	refusals := 0 // refusals of this file in a row, the first maybe forgiven
	revoked := 0  // refusals forgiven as revocations
	var mark refusalMark
	for {
		err = j.attempt(ctx)
		if err == nil || j.published || ctx.Err() != nil {
			return err
		}
		// A 401 to a fresh token while the service accepts tokens for
		// other requests of the run means that it revoked the token, or
		// that a concurrent renewal replaced it: the next attempt takes
		// the current token, up to maxRevoked times. Other refusals end
		// the file when maxRefusals more follow in a row: a service that
		// accepts no token, or none for this file, ends it after a few
		// tries. Refusals are not charged to the budget, which is for
		// the failures of the transfer itself.
		if errors.Is(err, auth.ErrTokenRefused) {
			j.att.budget++ // refusals have bounds of their own
			if j.d.answers.revoked(&mark) && revoked < maxRevoked {
				revoked++
				refusals = 1 // the first of a new run of refusals
			} else if refusals++; refusals > maxRefusals {
				return err
			}
		} else if isFinal(err) {
			return err
		}
		if j.att.n >= j.att.budget {
			return err
		}
		j.d.cfg.logger().Debug("retrying download", "url", redact(j.e.URL), "attempts", j.att.n, "error", redactErr(err))
	}
}

// skip reports (and records) that the file is already complete at its final
// name. Without Force, a complete file there is trusted unless the manifest
// gives a size or a sha256 and the location tells another: then it is
// downloaded again. Something there that a download must not replace is an
// error, with Force too.
func (j *job) skip(ctx context.Context) (bool, error) {
	info, ok, err := j.loc.Complete(ctx, j.e.Name)
	if err != nil || !ok || j.d.cfg.Force {
		return false, err
	}
	if (j.e.Size >= 0 && info.Size != j.e.Size) ||
		(j.e.SHA256 != "" && info.SHA256 != "" && !strings.EqualFold(info.SHA256, j.e.SHA256)) {
		return false, nil
	}
	j.r.Status, j.r.Size = Skipped, info.Size
	return true, nil
}

// setExpected sets this entry's share of Progress.BytesExpected, now
// known, and keeps Progress.FilesSized and FilesUnsized with it.
func (j *job) setExpected(v int64) {
	j.d.bytesExpected.Add(v - j.contrib)
	switch {
	case j.contrib <= 0 && v > 0:
		j.d.filesSized.Add(1)
	case j.contrib > 0 && v <= 0:
		j.d.filesSized.Add(-1)
	}
	if !j.sized {
		j.sized = true
		j.d.filesUnsized.Add(-1)
	}
	j.contrib = v
}

// maxRefusals is how many times one file is tried again after the service
// refused a freshly renewed token with no successful answer in between.
const maxRefusals = 2

// isFinal reports errors that another attempt of the same file cannot cure.
func isFinal(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return !retryableStatus(se.code)
	}
	return isPermanentError(err) || errors.As(err, new(*finalError)) || errors.Is(err, errSizeAnnounced) || errors.Is(err, ErrNotRegular) ||
		errors.Is(err, ErrTooLarge) || errors.Is(err, ErrContentEncoding) ||
		errors.Is(err, ErrBadURL) || errors.Is(err, ErrBadRedirect) || isStorageFull(err)
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
