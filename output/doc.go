// Package output defines where a download batch writes its files: a
// Location, one small interface that the downloader writes through, so that
// a local folder and an object store bucket are two implementations of one
// idea and the downloader never learns which it writes to.
//
// The package holds only the interface and the types it speaks in, so that
// it imports nothing of wcdl and every implementation can import it: the
// local folder is the downloader's default (downloader.Config.Output nil,
// see downloader/folder.go, where it shares the link and lock guarantees
// that the downloader's tests prove end to end), and other stores live in
// packages of their own beside this one (output/s3, say) and are passed in
// as downloader.Config.Output.
//
// # The life of one file
//
//	size, err := loc.Complete(ctx, name)   // skip if already there
//	f, err := loc.Open(ctx, name, onBusy)  // the slot: a lock, a partial file
//	defer f.Close()                         // keeps a resumable slot, else removes it
//	held, err := f.Held(ctx)                // the version held and its bytes:
//	                                        // resumed, or f.Discard(ctx)
//	f.WriteAt(p, off)                       // any offset if Features.WriteAt, else only at the end
//	f.Save(ctx, rec)                        // progress: the version and the spans complete
//	f.ReadAt(p, off)                        // read back to hash and check the complete file
//	f.Publish(ctx, size)                    // only after every check passed
//
// A file appears at its final name only through Publish, and the
// downloader calls Publish only once the size, the checksums and the
// format of the complete file have checked; a failure never leaves a
// partial file at the final name.
//
// # How an S3 bucket maps onto it
//
// Package output/bucket is the bucket implementation (streamed multipart
// upload, no copy on local disk); the downloader learns nothing of S3.
//
//   - Complete: one HeadObject of the key. Size is Content-Length; SHA256
//     is the x-amz-meta-sha256 stored at Publish, so that a rerun skips a
//     complete object without downloading it (the downloader compares it
//     with the manifest's sha256= where both are known). A key that had
//     an incomplete upload when the run began, and still has one, is not
//     complete: that upload (an interrupted --force run's) is finished or
//     aborted, so that a finished batch leaves none open.
//   - Open: a conditional create (If-None-Match: *) of a small state
//     object beside the key plays the part of flock, with an expiry,
//     renewed while held, so that a dead pod's lock is taken over; onBusy
//     is called while another holds it. The state object records the
//     upload, the Record, the parts and the state of the SHA-256 of the
//     bytes uploaded (MarshalBinary): an upload's own metadata cannot be
//     read before it completes. Held: ListParts must show the
//     parts recorded; ListMultipartUploads under the key finds uploads
//     no state describes, which are aborted. Size is the sum of the parts
//     (a bucket appends, so Record.Done stays nil), Digests the recorded
//     state (no MD5: a file that needs one starts over).
//   - Features: WriteAt false (parts must be numbered in order and all but
//     the last at least 5 MiB): the downloader fetches the file as one
//     stream and writes only at the end. ReadBack false: the downloader
//     runs the checks on the stream (downloader/stream.go).
//   - WriteAt: bytes are buffered up to the part size and uploaded as the
//     next part (UploadPart with its SHA-256); memory is bounded by
//     workers × part size. A write at another offset than the end is
//     refused with ErrAppendOnly.
//   - Save: the Record is kept in the state object.
//   - Discard: AbortMultipartUpload; the next write starts a new upload.
//   - Publish: a file within one part is one PutObject with its
//     full-object SHA-256; a larger one uploads the buffered rest as the
//     last part, then CompleteMultipartUpload, then a copy onto itself
//     stores x-amz-meta-sha256. Nothing is at the key before.
//   - Close: releases the lock. An upload that holds no version that can
//     be resumed (no Record saved, no part) is aborted; one that can is
//     left open for the next run, and a bucket lifecycle rule
//     (AbortIncompleteMultipartUpload) cleans up after runs that never come
//     back.
package output
