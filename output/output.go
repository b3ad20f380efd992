package output

import (
	"context"
	"io"
)

// A Location is where the files of a batch are written: a local folder, a
// bucket. Its methods are safe for concurrent use by the downloader's
// workers, each on a different name. Names are single path elements that
// the plan has checked (manifest.Entry.Name).
type Location interface {
	// Complete returns what is at name's final place if a complete file
	// is there (ok), or ok false if there is nothing or an incomplete
	// thing that a download may replace. Something that must not be
	// replaced (a directory, a special file) is an error.
	Complete(ctx context.Context, name string) (info Info, ok bool, err error)

	// Open takes the slot where name is written until it is published,
	// waiting while another process holds it, until ctx ends; onBusy, if
	// not nil, is called each time the slot is found held. What the slot
	// holds already, from an earlier run, is kept until the holder
	// discards it.
	Open(ctx context.Context, name string, onBusy func()) (File, error)

	// Features says what the files of this location support.
	Features() Features

	// Where returns where name is published, for reports and messages
	// (a path, a URL without secrets).
	Where(name string) string
}

// A File is one name's slot, held by one worker from Open to Close. Its
// methods are not safe for concurrent use, but for WriteAt and ReadAt
// where Features.WriteAt is set.
type File interface {
	// Held returns what the slot holds now.
	Held(ctx context.Context) (Held, error)

	// WriteAt writes p at offset off of the file being received. Without
	// Features.WriteAt, off must be where the bytes held end (an
	// append), else it fails with ErrAppendOnly.
	io.WriterAt

	// ReadAt reads back bytes written, to hash and check the complete
	// file. Without Features.ReadBack it fails with ErrNoReadBack.
	io.ReaderAt

	// Save records rec (the version being received and, for a file
	// written at several offsets, the spans complete) so that a later
	// Open finds it with the bytes it describes. The caller saves only
	// a version that can be resumed (one with a validator). When Save
	// fails, no earlier record is kept either: the bytes held are then
	// not resumable.
	Save(ctx context.Context, rec Record) error

	// Discard empties the slot and forgets its record: what it held is
	// of another version or cannot be trusted.
	Discard(ctx context.Context) error

	// Publish makes the first size bytes written appear at the final
	// name, atomically and durably. The caller calls it only after the
	// complete file has passed every check; after it the slot is empty.
	Publish(ctx context.Context, size int64) error

	// Close releases the slot. Bytes described by a Record (saved, or
	// found and not discarded) are kept for a later run; bytes without
	// one cannot be resumed and are removed.
	Close() error
}

// Features says what a location's files support beyond appending.
type Features struct {
	// WriteAt: bytes may be written at any offset, by several goroutines
	// at once, so that a large file can be fetched as parallel ranges.
	// Without it the downloader fetches each file as one stream.
	WriteAt bool

	// ReadBack: ReadAt returns the bytes written, so that a file can be
	// hashed and its format checked from the store. Without it every
	// check must run on the stream as the bytes pass.
	ReadBack bool
}

// Info describes a complete file at its final name.
type Info struct {
	Size   int64
	SHA256 string // hex SHA-256 stored with the file, or "" if the store keeps none
}

// Held is what a slot holds.
type Held struct {
	// Size is how many bytes the slot holds: from byte 0 for a file
	// received as one stream, or up to the end of the last span in
	// Record.Done.
	Size int64
	// Record is the last one saved or found, or the zero Record if there
	// is none or it could not be read whole (the bytes are then not
	// resumable: the holder discards them).
	Record Record
	// Digests holds, for a location without Features.ReadBack, the state
	// of the digests of the Size bytes held, keyed by "sha256" and "md5"
	// (the encoding.BinaryMarshaler form of crypto/sha256 and crypto/md5),
	// so that a resumed file's digests go on from there without reading
	// its bytes back. A digest missing here cannot be resumed: the holder
	// discards the bytes and starts over.
	Digests map[string][]byte
}

// Record describes the version of a source file whose bytes a slot holds,
// so that a later run can ask for the rest of the same version, or start
// over when it cannot. It holds no secret of the URL.
type Record struct {
	URLDigest    string // hex SHA-256 of the source URL without its query
	ETag         string // strong ETag, or ""
	LastModified string // Last-Modified as received, or ""
	Size         int64  // total size of the file
	// Done lists the spans complete of a file written at several offsets
	// at once, sorted and apart; nil for a file received as one stream,
	// whose bytes are those from 0 to Held.Size.
	Done []Span
}

// Span is the bytes [Start, End) of a file.
type Span struct {
	Start, End int64
}
