package auth

import (
	"fmt"
	"strings"
	"time"
)

// maxLifetime bounds expires_in and refresh_expires_in before they become
// durations: a huge value would overflow into a token already expired.
const maxLifetime = 365 * 24 * time.Hour

// lifetime converts a lifetime in seconds from a token answer, clamped to
// maxLifetime.
func lifetime(seconds int64) time.Duration {
	if seconds > int64(maxLifetime/time.Second) {
		return maxLifetime
	}
	return time.Duration(seconds) * time.Second
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
