package downloader

import (
	"errors"

	"github.com/wcdl/wcdl/internal/httpguard"
)

// ErrHTMLPage reports that the service answered with a web page or a JSON
// document where a binary file was expected. A login page usually means the
// session expired. Nothing of the page is kept.
var ErrHTMLPage = errors.New("the service sent a web page instead of the file (a login page usually means the session expired)")

// ErrSizeMismatch reports a file whose size differs from the manifest's
// size= or from the length the service announced.
var ErrSizeMismatch = errors.New("the file size does not match the expected size")

// ErrChecksum reports a file whose SHA-256 or MD5 differs from the manifest.
var ErrChecksum = errors.New("the file checksum does not match the manifest")

// ErrCorrupt reports a file that failed its format check (for a GeoTIFF: its
// structure is incomplete, usually because the transfer was truncated).
var ErrCorrupt = errors.New("the file failed its format check")

// ErrIncomplete reports a transfer that ended before the whole file arrived
// and could not be completed within the attempt budget.
var ErrIncomplete = errors.New("the transfer ended before the whole file arrived")

// ErrStalled reports a transfer cut because no data arrived for
// Config.StallTimeout: no response headers, or no byte of a body, on any
// status. It is retried as a resume. It is httpguard.ErrStalled, which the
// transport of every request returns.
var ErrStalled = httpguard.ErrStalled

// ErrNotFound reports a 404 for an entry that is not allowed to be missing.
var ErrNotFound = errors.New("the service has no such file (404)")

// ErrForbidden reports a 403: the account is known but lacks access to the
// file. It is permanent.
var ErrForbidden = errors.New("the service refused access (403): the account may lack access to this collection")

// ErrUnauthorized reports a 401 answered to a client that carries no
// authentication.
var ErrUnauthorized = errors.New("the service requires authentication (401)")

// ErrHTTPStatus reports any other unexpected HTTP status.
var ErrHTTPStatus = errors.New("unexpected HTTP status")

// ErrBadRange reports a 206 answer whose Content-Range does not continue the
// partial file (wrong start or different total size). The partial file is
// discarded rather than spliced with bytes of another version.
var ErrBadRange = errors.New("the service answered a range that does not continue the partial file")

// ErrTooManyRedirects reports a request that was redirected more than five
// times.
var ErrTooManyRedirects = errors.New("too many redirects")

// ErrBadName reports an entry whose output name is not a single safe path
// segment.
var ErrBadName = errors.New("unsafe output file name")

// ErrNotRegular reports a name in the output folder that is taken by
// something wcdl never writes into or reads from: a symbolic link, a
// directory, a named pipe, a device or a socket. Another account that can
// write to a shared folder could plant one to make wcdl (perhaps run as
// root) write elsewhere; the entry fails instead, and it is final.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge reports a file larger than Config.MaxFileSize, announced or
// sent without a length. Nothing of it is kept; it is final.
var ErrTooLarge = errors.New("the file is larger than the largest file allowed (--max-file-size)")

// ErrContentEncoding reports an answer with a Content-Encoding other than
// identity, which wcdl does not ask for: its bytes are not the file's.
// Nothing of it is kept; it is final.
var ErrContentEncoding = errors.New("the service sent the file with a content coding that was not asked for")

// ErrBadURL reports an entry URL that cannot be requested. It is final.
var ErrBadURL = errors.New("malformed URL")

// ErrBadRedirect reports a redirect to a scheme other than http or https.
// It is final.
var ErrBadRedirect = errors.New("redirect to a scheme other than http or https")

// ErrTooSlow reports a transfer cut because its average rate over the last
// Config.StallTimeout stayed below Config.MinRate. It is retried as a
// resume.
var ErrTooSlow = errors.New("the transfer was slower than the minimum rate")

// ErrNotStarted marks entries that were never started because the batch
// stopped first. It is always wrapped together with the reason for the stop.
var ErrNotStarted = errors.New("not started")

// ErrNotKept reports a TIFF streamed to a location that cannot read it
// back (a bucket) whose structure lies outside the bytes kept from the
// stream for its check: it is not published unchecked.
var ErrNotKept = errors.New("the file's format cannot be checked on the stream")

// ErrDigest reports a file whose bytes do not match the digest the service
// published for it (an S3 ETag that is an MD5, Azure's Content-MD5): the
// object changed under it or was corrupted. Nothing of it is published.
var ErrDigest = errors.New("the file does not match the digest the service published")
