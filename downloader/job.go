package downloader

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/manifest"
)

// job is the download of one entry.
type job struct {
	d       *Downloader
	e       manifest.Entry
	r       *Result
	final   string
	part    string
	meta    string
	att     attempts
	rate    rateWindow // cuts the current request when data trickles
	contrib int64      // this entry's share of Progress.BytesExpected

	lock *partLock // held on the part from the first attempt to the end
	// metaOnDisk: a file exists at meta (read or written by this job);
	// metaUnknown: the part was there before the lock was taken, and
	// whether a meta is beside it has not been looked at yet. A part created
	// by this job has no meta (a meta never outlives its part), so nothing
	// is looked up or removed for it unless this job writes one.
	metaOnDisk, metaUnknown bool
	published               bool // the part was renamed to the final name
	// oneStream: the service answered a range request with the whole file
	// or another range; the file is fetched as one stream from now on.
	oneStream bool
}

func (d *Downloader) path(e manifest.Entry) string { return filepath.Join(d.cfg.Dir, e.Name) }

// fetch downloads one entry and reports how it ended.
func (d *Downloader) fetch(ctx context.Context, e manifest.Entry) Result {
	start := time.Now()
	r := Result{Entry: e, Path: d.path(e)}
	j := &job{d: d, e: e, r: &r, final: r.Path, part: r.Path + ".part", meta: r.Path + ".part.meta",
		att: attempts{budget: d.cfg.Attempts}, contrib: max(e.Size, 0)}
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
	if _, err := checkFinal(j.final); err != nil {
		return err
	}
	if j.skip() {
		return nil
	}
	lock, created, err := lockPart(ctx, j.part, j.onLockBusy())
	if err != nil {
		return err
	}
	j.lock, j.metaUnknown = lock, !created
	defer j.unlock()
	if j.skip() { // another process finished it while we waited
		return nil
	}
	refusals := 0      // refused tokens since the service last accepted one
	revoked := 0       // refusals forgiven as revocations
	var accepted int64 // d.accepted at the last refusal
	for {
		err = j.attempt(ctx)
		if err == nil || j.published || ctx.Err() != nil {
			return err
		}
		// A 401 to a fresh token usually means that the service revoked it
		// after it had worked for other requests, or that a concurrent
		// renewal replaced it: the next attempt takes the current token,
		// and up to maxRevoked such attempts are not charged to the
		// budget. Only refusals with no successful answer anywhere in the
		// run between them count against the file: a service that
		// refuses every token still ends it after a few tries.
		if errors.Is(err, auth.ErrTokenRefused) {
			if n := j.d.accepted.Load(); n != accepted {
				accepted, refusals = n, 0
				if revoked < maxRevoked {
					revoked++
					j.att.budget++
				}
			}
			if refusals++; refusals > maxRefusals {
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
// name. Without Force, a regular file there is trusted unless the manifest
// gives a size and the file's differs: then it is downloaded again.
func (j *job) skip() bool {
	if j.d.cfg.Force {
		return false
	}
	fi, err := os.Lstat(j.final) // a link is never trusted as complete
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
// refused a freshly renewed token with no successful answer in between.
const maxRefusals = 2

// maxRevoked is how many attempts of one file that ended on a revoked token
// are not charged to its budget.
const maxRevoked = 10

// isFinal reports errors that another attempt of the same file cannot cure.
func isFinal(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return !retryableStatus(se.code)
	}
	return isPermanentError(err) || errors.Is(err, errSizeAnnounced) || errors.Is(err, ErrNotRegular) ||
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
