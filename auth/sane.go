package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxLifetime bounds expires_in and refresh_expires_in before they become
// durations: a huge value would overflow into a token already expired.
const maxLifetime = 365 * 24 * time.Hour

// lifetime converts a lifetime in seconds from a token answer, clamped to
// maxLifetime and rounded up to at least a second. Zero, negative or not a
// number means unknown: zero.
func lifetime(s seconds) time.Duration {
	switch v := float64(s); {
	case math.IsNaN(v) || v <= 0:
		return 0
	case v >= maxLifetime.Seconds():
		return maxLifetime
	case v < 1:
		return time.Second
	default:
		return time.Duration(v * float64(time.Second))
	}
}

// seconds is a lifetime from a token answer (expires_in,
// refresh_expires_in). RFC 6749 makes it a whole number, but providers
// also send it with a fraction (300.5) or as a string ("300"); both are
// read. A value that is no number at all reads as zero, unknown: the
// token then lives until the service refuses it, which costs a request,
// where refusing the answer would end the run.
type seconds float64

// UnmarshalJSON implements json.Unmarshaler.
func (s *seconds) UnmarshalJSON(b []byte) error {
	*s = 0
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return nil
		}
		b = []byte(strings.TrimSpace(str))
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		// "Inf" and "NaN" parse, and a huge number overflows to ±Inf:
		// only +Inf is a lifetime, the longest.
		if v > 0 {
			*s = seconds(v)
		}
		return nil
	}
	*s = seconds(v)
	return nil
}

// checkTokens refuses tokens that no HTTP header or form can carry as they
// are: with control characters or white space. The token itself is never
// quoted.
func checkTokens(a tokenAnswer) error {
	for _, t := range []struct{ name, v string }{{"access", a.AccessToken}, {"refresh", a.RefreshToken}} {
		if i := strings.IndexFunc(t.v, func(r rune) bool { return r <= ' ' || r == 0x7f }); i >= 0 {
			return fmt.Errorf("%w: its %s token holds a control character or white space at byte %d; ask the identity provider's administrator", ErrBadTokenAnswer, t.name, i)
		}
	}
	return nil
}
