package downloader

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strconv"
)

// throttle is the RoundTripper that makes every request wait for a slot of
// the run's concurrency and tells it how the service answered. The slot is
// held until the body is closed.
type throttle struct {
	next http.RoundTripper
	c    *concurrency
}

func (t *throttle) RoundTrip(req *http.Request) (*http.Response, error) {
	s, err := t.c.acquire(req.Context())
	if err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		s.release(false)
		return resp, err
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		// Read the little an overload answer says, for a session count.
		head, _ := io.ReadAll(io.LimitReader(resp.Body, maxOverloadBody))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
		paced := s.overloaded(resp.Status, sessionCap(head))
		if a := attemptsFrom(req.Context()); a != nil {
			a.paced = paced
		}
	case code >= 200 && code < 300:
		s.ok()
	}
	resp.Body = &slotBody{ReadCloser: resp.Body, s: s, success: resp.StatusCode >= 200 && resp.StatusCode < 300}
	return resp, nil
}

// maxOverloadBody is how much of a 429 or 503 body is looked at.
const maxOverloadBody = 4 << 10

// sessionRE matches Copernicus Data Space's answer to a user over their
// session cap, "Max session number 4 exceeded".
var sessionRE = regexp.MustCompile(`(?i)max(?:imum)? session number (\d{1,4}) exceeded`)

// sessionCap returns the session count an overload answer names, or 0.
func sessionCap(body []byte) int {
	m := sessionRE.FindSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// slotBody releases its slot when closed; the transfer ended well if the
// answer was a success and the body was read to its end.
type slotBody struct {
	io.ReadCloser
	s       *slot
	success bool
	eof     bool
}

func (b *slotBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *slotBody) Close() error {
	err := b.ReadCloser.Close()
	b.s.release(b.success && b.eof)
	return err
}
