// Package bucket is an output.Location in an S3-compatible bucket: each
// file is streamed into a multipart upload, with no copy on local disk,
// and completed at its final key only after the downloader's checks
// passed, so that an object there is always complete and verified.
//
// Beside each key being written lies a small state object, <key>.part
// (a name the manifest reserves): created with If-None-Match: * it is the
// lock that one writer holds (with an expiry, renewed while it writes, so
// that the lock of a process that died is taken over), and it records the
// open upload, the version of the source it holds (output.Record), its
// parts and the state of the SHA-256 of the bytes uploaded, so
// that a later run resumes the upload where its last part ended. A file
// smaller than one part is sent as one PutObject at Publish.
package bucket

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/wcdl/wcdl/output"
)

// DefaultPartSize is the part size of an upload whose file size does not
// call for larger parts: each worker holds at most one part in memory.
const DefaultPartSize = 16 << 20

// Limits of S3 multipart uploads.
const (
	minPartSize = 5 << 20
	maxParts    = 10000
)

// DefaultLockTTL is how long a lock object holds without being renewed.
const DefaultLockTTL = 2 * time.Minute

// Config configures Open.
type Config struct {
	// URL is s3://BUCKET or s3://BUCKET/PREFIX.
	URL string
	// Endpoint, if not "", replaces the AWS endpoint (an S3-compatible
	// server: MinIO, versitygw, Ceph).
	Endpoint string
	// PathStyle addresses the bucket in the path, not the host name.
	PathStyle bool
	// PartSize is the smallest part size (default DefaultPartSize); a
	// file too large for maxParts of them gets larger parts.
	PartSize int64
	// LockTTL is how long a lock holds without being renewed (default
	// DefaultLockTTL); it is renewed every third of it.
	LockTTL time.Duration
	// HTTPClient, if not nil, carries the requests to the bucket.
	HTTPClient *http.Client
	// Logger receives debugging messages; nil discards them.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Bucket is an output.Location in a bucket. Its methods are safe for
// concurrent use, each on a different name.
type Bucket struct {
	client         *s3.Client
	bucket, prefix string
	cfg            Config
	owner          string // names this process's locks
	aborted        atomic.Int64

	// free holds part buffers no file uses: a file takes one and gives
	// it back when it ends, so that a run holds at most one per worker,
	// reused, and makes no garbage of them (a sync.Pool would drop them
	// at each collection, and the heap would grow to twice the live
	// buffers before the next).
	mu   sync.Mutex
	free [][]byte
	// open holds the keys that had an incomplete upload when the run
	// began (guarded by mu): a complete object at such a key is being
	// replaced (a --force run that was interrupted) or has an upload
	// no state describes, which Complete does not let a finished
	// batch leave behind.
	open map[string]bool
}

var _ output.Location = (*Bucket)(nil)

// ParseURL splits s3://bucket/prefix into the bucket and the key prefix
// (ending in / unless empty). A prefix with an empty, "." or ".." segment
// is refused: S3 keeps such keys apart, but gateways that store objects as
// files (versitygw, MinIO on a file system) refuse them or fold them onto
// other keys, so that a rerun would not find what it wrote.
func ParseURL(s string) (bucket, prefix string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", fmt.Errorf("%w: %q: want s3://BUCKET or s3://BUCKET/PREFIX", ErrBadURL, s)
	}
	if !validBucket(u.Host) {
		return "", "", fmt.Errorf("%w: %q: %q is not a bucket name (letters, digits, '.', '-' and '_'; the server goes in --s3-endpoint)", ErrBadURL, s, u.Host)
	}
	prefix = strings.TrimPrefix(u.Path, "/")
	for _, seg := range strings.Split(strings.TrimSuffix(prefix, "/"), "/") {
		if prefix != "" && (seg == "" || seg == "." || seg == "..") {
			return "", "", fmt.Errorf("%w: %q: the prefix %q has an empty, \".\" or \"..\" segment", ErrBadURL, s, prefix)
		}
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return u.Host, prefix, nil
}

// validBucket reports whether name can be a bucket's name: 3 to 255 of
// the characters that S3 (with its legacy names) and S3-compatible servers
// allow.
func validBucket(name string) bool {
	if len(name) < 3 || len(name) > 255 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Open connects to the bucket with the standard AWS chain of settings and
// credentials (environment, shared config and credentials files, web
// identity, instance metadata) and checks that the bucket is there and
// that the credentials may write into it: a missing bucket is
// ErrNoBucket, refused credentials ErrAccess, credentials without access
// ErrDenied, requests signed for another region ErrWrongRegion.
func Open(ctx context.Context, cfg Config) (*Bucket, error) {
	bucket, prefix, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.PartSize <= 0 {
		cfg.PartSize = DefaultPartSize
	}
	cfg.PartSize = max(cfg.PartSize, minPartSize)
	if cfg.LockTTL <= 0 {
		cfg.LockTTL = DefaultLockTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var opts []func(*config.LoadOptions) error
	if cfg.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(cfg.HTTPClient))
	}
	opts = append(opts, config.WithRetryMaxAttempts(8))
	ac, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: loading the AWS configuration: %w", ErrAccess, err)
	}
	if ac.Region == "" {
		ac.Region = "us-east-1"
	}
	client := s3.NewFromConfig(ac, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	b := &Bucket{client: client, bucket: bucket, prefix: prefix, cfg: cfg, owner: newOwner()}
	if err := b.check(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// check asks for the bucket and for its open uploads under the prefix:
// both need the credentials to be right. The answer to a HEAD has no
// body, so no error code: a refused HEAD is asked again as the listing,
// whose answer names the error.
func (b *Bucket) check(ctx context.Context) error {
	_, err := b.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &b.bucket})
	in := bucketRegion(err)
	if err == nil {
		b.open, err = b.uploadKeys(ctx, b.prefix)
	} else if s := statusOf(err); s != 0 && s < 500 {
		// (A server error is not asked again: its retries are spent.)
		if _, lerr := b.uploadKeys(ctx, b.prefix); statusOf(lerr) != 0 {
			err = lerr
		}
	}
	if err == nil {
		return nil
	}
	if r := bucketRegion(err); r != "" {
		in = r
	}
	return b.refusal(err, in)
}

// Error codes of S3 that name the cause of a refused check.
var (
	regionCodes = map[string]bool{"AuthorizationHeaderMalformed": true, "IllegalLocationConstraintException": true,
		"PermanentRedirect": true, "TemporaryRedirect": true, "Redirect": true}
	credentialCodes = map[string]bool{"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "InvalidToken": true,
		"ExpiredToken": true, "TokenRefreshRequired": true, "InvalidSecurity": true}
	deniedCodes = map[string]bool{"AccessDenied": true, "AllAccessDisabled": true}
)

// refusal says why the bucket refused the check: the S3 error code, else
// the HTTP status, names the likely cause; in is the bucket's region if
// S3 told it.
func (b *Bucket) refusal(err error, in string) error {
	code, status := errorCode(err), statusOf(err)
	signed := b.client.Options().Region
	switch {
	case regionCodes[code] || status == http.StatusMovedPermanently ||
		(status == http.StatusBadRequest && in != "" && in != signed):
		if in != "" && in != signed {
			return fmt.Errorf("%w: s3://%s is in %s, not %s: %s", ErrWrongRegion, b.bucket, in, signed, apiMessage(err))
		}
		return fmt.Errorf("%w: s3://%s, signed for %s: %s", ErrWrongRegion, b.bucket, signed, apiMessage(err))
	case code == "NoSuchBucket" || status == http.StatusNotFound:
		return fmt.Errorf("%w: s3://%s", ErrNoBucket, b.bucket)
	case credentialCodes[code] || status == http.StatusUnauthorized:
		return fmt.Errorf("%w: s3://%s: %s", ErrAccess, b.bucket, apiMessage(err))
	case deniedCodes[code] || status == http.StatusForbidden:
		return fmt.Errorf("%w: s3://%s: %s", ErrDenied, b.bucket, apiMessage(err))
	case status >= 400 && status < 500:
		return fmt.Errorf("%w: s3://%s: %s", ErrRefused, b.bucket, apiMessage(err))
	default:
		return fmt.Errorf("%w: s3://%s: %s", ErrUnreachable, b.bucket, apiMessage(err))
	}
}

// uploadKeys returns the keys under prefix that have an incomplete
// upload.
func (b *Bucket) uploadKeys(ctx context.Context, prefix string) (map[string]bool, error) {
	keys := map[string]bool{}
	in := &s3.ListMultipartUploadsInput{Bucket: &b.bucket, Prefix: &prefix}
	for {
		out, err := b.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, u := range out.Uploads {
			keys[aws.ToString(u.Key)] = true
		}
		if !aws.ToBool(out.IsTruncated) {
			return keys, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// Aborted returns how many incomplete multipart uploads were aborted:
// left by earlier runs for another version, or found without a state
// that describes them, or discarded.
func (b *Bucket) Aborted() int64 { return b.aborted.Load() }

// Features: a bucket only appends, and cannot read back an upload.
func (b *Bucket) Features() output.Features { return output.Features{} }

// Where returns s3://bucket/prefix/name.
func (b *Bucket) Where(name string) string { return "s3://" + b.bucket + "/" + b.key(name) }

func (b *Bucket) key(name string) string { return b.prefix + name }

// Complete asks for the object at name's key with one HEAD: its size, and
// the SHA-256 stored with it at Publish (x-amz-meta-sha256). A complete
// object whose key had an incomplete upload when the run began, and still
// has one, is not complete: the upload is a replacement to finish (it is
// resumed, or aborted if nothing describes it, once the file is opened),
// so that a finished batch leaves no upload open behind a skipped object.
func (b *Bucket) Complete(ctx context.Context, name string) (output.Info, bool, error) {
	key := b.key(name)
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.bucket, Key: &key})
	if statusOf(err) == http.StatusNotFound {
		return output.Info{}, false, nil
	}
	if err != nil {
		return output.Info{}, false, fmt.Errorf("look for %s: %s", b.Where(name), apiMessage(err))
	}
	b.mu.Lock()
	pending := b.open[key]
	b.mu.Unlock()
	if pending {
		keys, err := b.uploadKeys(ctx, key)
		if err != nil {
			return output.Info{}, false, fmt.Errorf("list the uploads of %s: %s", b.Where(name), apiMessage(err))
		}
		if keys[key] {
			return output.Info{}, false, nil
		}
		b.mu.Lock()
		delete(b.open, key)
		b.mu.Unlock()
	}
	return output.Info{Size: aws.ToInt64(out.ContentLength), SHA256: out.Metadata[metaSHA256]}, true, nil
}

// metaSHA256 is the user metadata key of the object's hex SHA-256
// (x-amz-meta-sha256).
const metaSHA256 = "sha256"

// partSize is the part size for a file of size bytes (-1 if unknown).
func (b *Bucket) partSize(size int64) int64 {
	p := b.cfg.PartSize
	if size > 0 {
		need := (size + maxParts - 1) / maxParts
		need = (need + 1<<20 - 1) &^ (1<<20 - 1) // whole MiB
		p = max(p, need)
	}
	return p
}

// buffer returns an empty buffer for a part.
func (b *Bucket) buffer() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := len(b.free); n > 0 {
		buf := b.free[n-1]
		b.free = b.free[:n-1]
		return buf[:0]
	}
	return make([]byte, 0, b.cfg.PartSize)
}

// release gives buf back if it has the default capacity.
func (b *Bucket) release(buf []byte) {
	if int64(cap(buf)) == b.cfg.PartSize {
		b.mu.Lock()
		b.free = append(b.free, buf)
		b.mu.Unlock()
	}
}

// statusOf returns the HTTP status of a failed request, or 0.
func statusOf(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// errorCode returns the S3 error code of a failed request, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// bucketRegion returns the region S3 says the bucket is in
// (x-amz-bucket-region), or "".
func bucketRegion(err error) string {
	var re interface{ HTTPResponse() *smithyhttp.Response }
	if errors.As(err, &re) && re.HTTPResponse() != nil && re.HTTPResponse().Response != nil {
		return re.HTTPResponse().Header.Get("X-Amz-Bucket-Region")
	}
	return ""
}

// apiMessage says what the bucket answered, without the request's
// signature or credentials (the SDK's errors hold neither).
func apiMessage(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
