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
// This is how a bucket implementation (streamed multipart upload, no copy
// on local disk) is meant to fit; the downloader needs no change for it.
//
//   - Complete: one HeadObject of the key. Size is Content-Length; SHA256
//     is the x-amz-meta-sha256 stored at Publish, so that a rerun skips a
//     complete object without downloading it (the downloader compares it
//     with the manifest's sha256= where both are known).
//   - Open: a conditional create of a small lock object beside the key
//     (If-None-Match: *, with an expiry so that a dead pod's lock is taken
//     over) plays the part of flock; onBusy is called while it is held.
//     ListMultipartUploads under the key finds an upload left by an
//     interrupted run. Held: its metadata (set at CreateMultipartUpload
//     from the first Record saved) is the Record, and ListParts gives the
//     bytes complete: Size is the sum of the parts, numbered 1, 2, ...
//     without a gap (a bucket appends, so Record.Done stays nil). The
//     downloader discards an upload whose Record names another version.
//     The SHA-256 of the bytes already uploaded cannot be read back: the
//     bucket keeps the hash state (sha256's MarshalBinary) with its
//     record, or the file restarts from zero.
//   - Features: WriteAt false (parts must be numbered in order and all but
//     the last at least 5 MiB): the downloader fetches the file as one
//     stream and writes only at the end. ReadBack false: the checks must
//     run on the stream (hashes as the bytes pass, the TIFF structure from
//     its header and directories) instead of reading the file back. The
//     downloader does not do that yet: until it does, downloader.New
//     refuses a location without ReadBack, and a bucket may offer ReadAt
//     from a copy of what it buffered, or a ranged GET of a scratch object.
//   - WriteAt: bytes are buffered up to the part size and uploaded as the
//     next part (UploadPart with its checksum); memory is bounded by
//     workers × part size. A write at another offset than the end is
//     refused with ErrAppendOnly.
//   - Save: the first Record of a version is kept until the first part is
//     uploaded and becomes the upload's metadata at CreateMultipartUpload
//     (the version cannot change within an upload: the downloader calls
//     Discard before it saves another version). Later saves of the same
//     version change nothing: the uploaded parts are the progress.
//   - Discard: AbortMultipartUpload; the next write starts a new upload.
//   - Publish: uploads the buffered rest as the last part, then
//     CompleteMultipartUpload with x-amz-meta-sha256 (and the full-object
//     checksum where the server supports it). Nothing is at the key before.
//   - Close: releases the lock object. An upload that holds no version
//     that can be resumed (no Record saved) is aborted; one that can is
//     left open for the next run, and a bucket lifecycle rule
//     (AbortIncompleteMultipartUpload) cleans up after runs that never come
//     back.
package output
