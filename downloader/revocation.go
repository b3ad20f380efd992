package downloader

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// maxRevoked is how many attempts of one file that ended on a revoked token
// are not charged to its budget: a storm of revocations may refuse one
// file many times in a row, but a file that only that file's requests
// are refused for must not renew the token without end.
const maxRevoked = 32

// maxRefusedInStorm is how many refused tokens a run may see in a row,
// with no successful answer between them, before they stop counting as
// revocations: a service that stopped accepting this account's tokens
// mid-run then ends the batch as one that never accepted them does.
const maxRefusedInStorm = 64

// answers counts what the service answered the requests of a Downloader,
// to tell a token it revoked from one it refuses (see revoked).
type answers struct {
	accepted     atomic.Int64 // successful (2xx) answers
	succeeding   atomic.Int64 // successful answers whose body is not closed yet
	refused      atomic.Int64 // attempts that ended on a refused token
	refusedSince atomic.Int64 // those since the last successful answer
}

// refusalMark is what answers counted at a file's last refused token.
type refusalMark struct{ accepted, refused int64 }

// revoked records that the service refused a freshly renewed token
// (auth.ErrTokenRefused) for a file, whose previous refusal left last, and
// reports whether the token counts as revoked: the service accepted a
// token in this run, not too many refusals came since it last did, and
// other requests are succeeding: since the file's last refusal the
// service accepted a token or refused one for another file (a storm of
// revocations), or an attempt it accepted is still under way (its body
// read, checked or published). A file refused again and again while
// nothing else happens is refused, not revoked.
func (a *answers) revoked(last *refusalMark) bool {
	now := refusalMark{accepted: a.accepted.Load(), refused: a.refused.Add(1)}
	inRow := a.refusedSince.Add(1)
	others := now.accepted != last.accepted || now.refused != last.refused+1 || a.succeeding.Load() > 0
	*last = now
	return now.accepted > 0 && inRow <= maxRefusedInStorm && others
}

// countAnswers is an http.RoundTripper that counts successful answers in
// a, and those whose body is not closed yet.
type countAnswers struct {
	next http.RoundTripper // nil: http.DefaultTransport
	a    *answers
}

func (c countAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	next := c.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err == nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		c.a.accepted.Add(1)
		c.a.refusedSince.Store(0)
		c.a.succeeding.Add(1)
		resp.Body = &succeedingBody{ReadCloser: resp.Body, n: &c.a.succeeding}
	}
	return resp, err
}

// succeedingBody takes itself off the count n when closed: at the end of
// the attempt, after the file was verified and published.
type succeedingBody struct {
	io.ReadCloser
	n    *atomic.Int64
	once sync.Once
}

func (b *succeedingBody) Close() error {
	b.once.Do(func() { b.n.Add(-1) })
	return b.ReadCloser.Close()
}
