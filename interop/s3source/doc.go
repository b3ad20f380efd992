// Package s3source tests wcdl's anonymous S3 source (--source aws) against
// a real S3 server, versitygw, on loopback: the wcdl binary fetches from a
// public bucket through a proxy that records every request.
package s3source
