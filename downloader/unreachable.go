package downloader

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
)

// ErrUnreachable marks a failure that every file from the same service
// would meet: its name does not resolve, it refuses every connection, or
// its TLS certificate is not trusted or does not match.
var ErrUnreachable = errors.New("the download service cannot be reached")

// unreachableRun is how many entries in a row, with no success in between,
// must fail as unreachable before the batch stops. A batch of fewer entries
// runs to its end, one line per entry.
const unreachableRun = 3

// An UnreachableError is the error of an entry whose service could not be
// reached at all. It reads as the entry's own error; Reason names the host
// and the cause in one line for the whole batch.
type UnreachableError struct {
	Host  string // the host that could not be reached
	Cause string // what went wrong, in words
	Err   error  // the entry's error
}

func (e *UnreachableError) Error() string   { return e.Err.Error() }
func (e *UnreachableError) Unwrap() []error { return []error{ErrUnreachable, e.Err} }

// Reason says in one line which host could not be reached and why.
func (e *UnreachableError) Reason() string {
	return fmt.Sprintf("cannot reach %s: %s", e.Host, e.Cause)
}

// markUnreachable wraps r.Err in an *UnreachableError when it is a failure
// common to every file from that service, and reports whether it did.
func markUnreachable(r *Result) (*UnreachableError, bool) {
	if r.Status != Failed || r.Err == nil {
		return nil, false
	}
	var ue *UnreachableError
	if errors.As(r.Err, &ue) {
		return ue, true
	}
	host, cause := unreachableCause(r.Err)
	if cause == "" {
		return nil, false
	}
	if host == "" {
		if u, err := url.Parse(r.Entry.URL); err == nil {
			host = u.Host
		}
	}
	ue = &UnreachableError{Host: host, Cause: cause, Err: r.Err}
	r.Err = ue
	return ue, true
}

// unreachableCause returns the host and a description of err when it is a
// failure no retry or other file can cure, else "".
func unreachableCause(err error) (host, cause string) {
	var (
		dns      *net.DNSError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		op       *net.OpError
	)
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return dns.Name, "the name does not resolve (no such host)"
	case errors.As(err, &unknown):
		return "", "its TLS certificate is not trusted (signed by an unknown authority)"
	case errors.As(err, &hostname):
		return hostname.Host, "its TLS certificate does not match the host name"
	case errors.As(err, &invalid):
		return "", "its TLS certificate is not valid: " + invalid.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		if errors.As(err, &op) && op.Addr != nil {
			host = op.Addr.String()
		}
		return host, "the connection was refused"
	}
	return "", ""
}
