package auth

import "context"

// A TokenSource hands out bearer access tokens.
//
// Implementations must be safe for concurrent use by many goroutines.
type TokenSource interface {
	// Token returns an access token that is valid now.
	Token(ctx context.Context) (string, error)

	// Refused reports that the service answered 401 to refused and returns
	// the token to retry with. If refused is still the current token a new
	// one is obtained; if it was already replaced, the current token is
	// returned without a token request.
	Refused(ctx context.Context, refused string) (string, error)
}
