package source

import "errors"

// ErrUnknown reports a source name that is not terrascope, aws or pc.
var ErrUnknown = errors.New("unknown source")

// ErrBadRoot reports a download root that is not an http(s) URL with a
// host and without user information, query or fragment.
var ErrBadRoot = errors.New("download root must be an http(s) URL with a host and no user, query or fragment")
