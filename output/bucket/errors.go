package bucket

import "errors"

// ErrBadURL reports an output that is not s3://BUCKET[/PREFIX].
var ErrBadURL = errors.New("invalid bucket URL")

// ErrNoBucket reports a bucket that does not exist.
var ErrNoBucket = errors.New("the bucket does not exist")

// ErrAccess reports credentials that the bucket refused (an unknown key,
// a wrong secret, an expired token), or none found.
var ErrAccess = errors.New("the bucket refused the credentials (check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the pod's service account)")

// ErrDenied reports credentials that the bucket knows but that may not
// use it (AccessDenied).
var ErrDenied = errors.New("the credentials have no access to the bucket (check the bucket policy and the permissions of the user or role)")

// ErrWrongRegion reports requests signed for another region than the
// bucket's.
var ErrWrongRegion = errors.New("the bucket is in another region than the requests are signed for (set AWS_REGION or the profile's region)")

// ErrRefused reports a request the bucket refused for another reason.
var ErrRefused = errors.New("the bucket refused the request")

// ErrUnreachable reports a bucket endpoint that could not be reached.
var ErrUnreachable = errors.New("the bucket could not be reached")

// ErrLockLost reports a file whose lock another process took over while
// it was written (this one stalled past the lock's expiry): it stops
// writing so that two never write the same key.
var ErrLockLost = errors.New("another process took over the lock of this file")

// ErrPartChecksum reports a part or object whose checksum, computed by the
// bucket, differs from the one computed as the bytes were sent.
var ErrPartChecksum = errors.New("the bucket computed another checksum than the one sent")
