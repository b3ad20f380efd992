// Package downloader fetches the entries of a plan with a bounded pool of
// workers, resuming, verifying and atomically publishing every file.
package downloader
