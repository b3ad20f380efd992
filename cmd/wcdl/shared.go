package main

import (
	"errors"
	"syscall"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/downloader"
)

// sharedFailures are the failures common to every file of a batch: the
// downloader stops the batch on them, and wcdl reports each once, in the
// line that says why the batch stopped, not once per file. The errnos are
// the output file system's: full, out of quota, read-only.
var sharedFailures = []error{auth.ErrLoginFailed, auth.ErrBadCredentials, auth.ErrBadTokenAnswer, auth.ErrTokenRefused, downloader.ErrUnreachable,
	syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS}

// sharedFailure returns the entry of sharedFailures that err matches, or
// nil.
func sharedFailure(err error) error {
	for _, s := range sharedFailures {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// coveredByStop reports whether r failed for the reason the batch stopped
// with, so that its own line would repeat the stop line.
func coveredByStop(r downloader.Result, runErr error) bool {
	s := sharedFailure(runErr)
	return s != nil && errors.Is(r.Err, s)
}

// stopReason says in one line why the batch stopped for a failure common
// to every file.
func stopReason(runErr error) string {
	var ue *downloader.UnreachableError
	if errors.As(runErr, &ue) {
		return "the batch was stopped: " + ue.Reason()
	}
	return authFailure(runErr)
}
