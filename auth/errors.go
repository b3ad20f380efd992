package auth

import "errors"

// ErrBadCredentials reports that the identity provider rejected the username,
// password or client. It is permanent: retrying a failed login risks locking
// the account, so callers must stop rather than try again.
var ErrBadCredentials = errors.New("the identity provider rejected the credentials")

// ErrTokenRefused reports that the download service answered 401 to a request
// even after the token was refreshed. It is permanent for that request.
var ErrTokenRefused = errors.New("the service refused a freshly issued token")

// ErrBadTokenAnswer reports a token answer that cannot be used: a token
// holding a control character or white space, which no Authorization
// header can carry. It is permanent: the identity provider would answer the
// same again.
var ErrBadTokenAnswer = errors.New("the identity provider issued a token that cannot be sent")

// ErrInsecureTokenURL reports a password grant that would be sent over plain
// http to a host other than loopback.
var ErrInsecureTokenURL = errors.New("refusing to send credentials over plain http to a non-loopback host")
