// Package downloader fetches the entries of a plan with a bounded pool of
// workers, resuming, verifying and atomically publishing every file.
//
// Each file is written to <name>.part in the output folder, next to
// <name>.part.meta, which records the version being received (URL, strong
// ETag or Last-Modified, total size). A transfer cut short resumes from the
// bytes in the part with Range and If-Range, in the same run or a later one;
// a part whose metadata is missing or does not match is restarted from zero,
// so bytes of two versions are never spliced. A complete part is verified
// (announced length, the manifest's size=, sha256= and md5=, the TIFF
// structure of .tif files, and no web page in place of a binary file), then
// synced, closed, renamed to its final name and the folder synced: a file at
// its final name is always complete.
//
// While a file is downloaded its worker holds an exclusive lock on
// <name>.lock (flock on unix systems), so two wcdl processes sharing an
// output folder never write the same file; the second finds it complete and
// skips it.
//
// A rerun skips files already at their final name without any request,
// unless Config.Force is set, or the manifest gives a size= that the
// existing file does not have: such a file is not trusted and is downloaded
// again (its checksum is not recomputed, which would read every file).
package downloader
