// Package downloader fetches the entries of a plan with a bounded pool of
// workers, resuming, verifying and atomically publishing every file.
//
// Files are written through an output.Location: the local output folder
// (folder.go) unless Config.Output names another, such as a bucket. What
// follows describes the local folder; another location keeps the same
// promises in its own way (see package output).
//
// Each file is written to <name>.part in the output folder. Once a transfer
// has received 256 KiB of a file that is not complete yet, or when an
// attempt ends early while the process lives on (a cut body, a stall, a
// cancelled run), the version being received (a digest of the URL without
// its query, strong ETag or Last-Modified, total size) is recorded beside the part in
// <name>.part.meta; a file that arrives in one go never gets one. A
// transfer cut short resumes from the bytes in the part with Range and
// If-Range, in the same run or a later one; a part whose metadata is
// missing, torn or does not match is restarted from zero, so bytes of two
// versions are never spliced: a 206 must carry the validator the part was
// started with. When fewer files remain than transfers are allowed, a
// large file whose first answer proves that ranges of one version can be
// asked for is fetched as several ranges at once into the part (ranges.go);
// its metadata then also lists the spans complete. A complete part is verified (announced
// length, the manifest's size=, sha256= and md5=, the TIFF structure of
// .tif files, and no web page in place of a binary file), then synced,
// closed, renamed to its final name and the folder synced: a file at its
// final name is always complete.
//
// While a file is downloaded its worker holds an exclusive lock on its
// <name>.part (flock on unix systems), so two wcdl processes sharing an
// output folder never write the same file; the second waits, finds it
// complete and skips it. When a file's entry ends unpublished (failed,
// interrupted), its part is kept only if its metadata lets a later run
// resume it; a part left empty, or whose version has no validator (no
// strong ETag, no usable Last-Modified: a later run would restart it
// anyway), is removed, so that it costs no disk.
//
// A rerun skips files already at their final name without any request,
// unless Config.Force is set, or the manifest gives a size= that the
// existing file does not have: such a file is not trusted and is downloaded
// again (its checksum is not recomputed, which would read every file).
//
// The output folder is opened once per run and held as a handle: every
// open, rename, removal and sync is made relative to it (openat, renameat,
// unlinkat), so renaming the folder away during a run and putting a link
// in its place cannot redirect a write.
//
// The output folder is a boundary: every name in it is opened without
// following a link and checked on the open descriptor, so a link, named
// pipe, device or directory planted there (by another account of a shared
// folder) fails its entry instead of being written through, and a link at
// a final name is replaced, never trusted as complete (see ErrNotRegular).
package downloader
