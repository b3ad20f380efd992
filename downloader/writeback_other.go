//go:build !linux

package downloader

import "os"

// startWriteback does nothing where sync_file_range is missing: the fsync
// before the part's rename writes the whole part.
func startWriteback(*os.File, int64, int64) {}

// preallocate does nothing here: the part's blocks are allocated as it is
// written.
func preallocate(*os.File, int64, int64) error { return nil }
