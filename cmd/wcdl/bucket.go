package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wcdl/wcdl/downloader"
	"github.com/wcdl/wcdl/output"
	"github.com/wcdl/wcdl/output/bucket"
)

// s3Options are the flags of an output bucket (-o s3://BUCKET/PREFIX).
type s3Options struct {
	endpoint  string
	pathStyle bool
	partSize  string
	lockTTL   time.Duration
}

func (s *s3Options) flags(fs *pflag.FlagSet) {
	fs.StringVar(&s.endpoint, "s3-endpoint", "", "with -o s3://..., the S3-compatible server `URL` (default: AWS, or AWS_ENDPOINT_URL_S3); credentials and region come from the AWS environment, files and roles")
	fs.BoolVar(&s.pathStyle, "s3-path-style", false, "with -o s3://..., address the bucket in the URL path (MinIO, versitygw, Ceph)")
	fs.StringVar(&s.partSize, "s3-part-size", "16M", "with -o s3://..., upload parts of `SIZE` (5M to 5G): each worker holds one part in memory, 256 MiB at -w 16")
	fs.DurationVar(&s.lockTTL, "s3-lock-ttl", bucket.DefaultLockTTL, "with -o s3://..., a file's lock not renewed for `D` (its writer died) is taken over")
}

// memoryBase is what wcdl needs beside the part buffers: the program, the
// copy buffers and the bytes kept for the TIFF checks (768 KiB per
// worker).
const memoryBase = 48 << 20

// Bounds of the bucket flags: S3 takes parts of 5 MiB to 5 GiB, and a lock
// renewed every third of its life needs a few seconds for each renewal.
const (
	minS3PartSize = 5 << 20
	maxS3PartSize = 5 << 30
	minS3LockTTL  = time.Second
)

// checkBucket rejects, before anything is asked of the bucket (and with
// --dry-run too), an s3:// output that cannot be a bucket and prefix, and
// bucket flags out of their bounds. It returns the part size.
func (o *options) checkBucket() (int64, error) {
	if !isBucket(o.out) {
		return 0, nil
	}
	if _, _, err := bucket.ParseURL(o.out); err != nil {
		return 0, usageError("-o: %v", err)
	}
	if e := o.s3.endpoint; e != "" {
		if err := checkEndpoint("--s3-endpoint", e); err != nil {
			return 0, err
		}
	}
	part, err := parseRate(o.s3.partSize)
	if err != nil || part < minS3PartSize || part > maxS3PartSize {
		return 0, usageError("--s3-part-size %q: want a size from 5M to 5G", o.s3.partSize)
	}
	if o.s3.lockTTL < minS3LockTTL {
		return 0, usageError("--s3-lock-ttl %v: want at least %v", o.s3.lockTTL, minS3LockTTL)
	}
	return part, nil
}

// checkEndpoint refuses an endpoint URL, given by name (a flag or an
// environment variable), that is not http:// or https://, or that holds
// credentials or a query.
func checkEndpoint(name, e string) error {
	u, err := url.Parse(e)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return usageError("%s %q: want an http:// or https:// URL", name, downloader.Redact(e))
	case u.User != nil || u.RawQuery != "":
		// The SDK would drop them silently and sign with the AWS
		// chain's credentials: refuse, without echoing them.
		return usageError("%s %s: credentials and query parameters in the URL are not used; give them through the AWS environment or profile", name, downloader.Redact(e))
	}
	return nil
}

// checkEndpointEnv checks, as --s3-endpoint is, the endpoint the AWS SDK
// would take from the environment when --s3-endpoint is not given:
// AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, unless
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
func (o *options) checkEndpointEnv(getenv func(string) string) error {
	if !isBucket(o.out) || o.s3.endpoint != "" || strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return nil
	}
	for _, name := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"} {
		if e := getenv(name); e != "" {
			return checkEndpoint(name, e)
		}
	}
	return nil
}

// isBucket reports an output given as s3://.
func isBucket(out string) bool { return strings.HasPrefix(out, "s3://") }

// outPath is where name goes in out, a folder or a bucket.
func outPath(out, name string) string {
	if isBucket(out) {
		return strings.TrimSuffix(out, "/") + "/" + name
	}
	return filepath.Join(out, name)
}

// openBucket opens the output bucket when -o names one, and checks that
// it is there and that the credentials may use it. For a folder it
// returns nil: the downloader opens it.
func openBucket(ctx context.Context, o *options, log *slog.Logger) (output.Location, *bucket.Bucket, error) {
	if !isBucket(o.out) {
		return nil, nil, nil
	}
	part, err := o.checkBucket()
	if err != nil {
		return nil, nil, err
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// The part buffers are live for the whole run: left to GOGC
		// alone, the heap would grow to twice them before each
		// collection. A soft limit of what the run needs makes the
		// collector keep it there.
		debug.SetMemoryLimit(memoryBase + int64(o.workers)*part)
	}
	b, err := bucket.Open(ctx, bucket.Config{URL: o.out, Endpoint: o.s3.endpoint, PathStyle: o.s3.pathStyle, PartSize: part, LockTTL: o.s3.lockTTL, Logger: log})
	if err != nil {
		return nil, nil, fmt.Errorf("output %s: %w", o.out, err)
	}
	return b, b, nil
}
