package auth

import "errors"

// ErrLoginFailed reports a login that cannot succeed in this run: the
// identity provider refused the password grant (any 4xx answer), the token
// URL does not answer as an OAuth2 token endpoint, or the endpoint could not
// be reached within the grant's attempts. Once a Provider returns it, it
// makes no further token request: repeated failed logins lock accounts.
// Every error below that stops a login also matches ErrLoginFailed.
var ErrLoginFailed = errors.New("the login failed")

// ErrBadCredentials reports that the identity provider rejected the username,
// password or client. It is permanent: retrying a failed login risks locking
// the account, so callers must stop rather than try again.
var ErrBadCredentials = errors.New("the identity provider rejected the credentials")

// ErrNotTokenEndpoint reports an answer that is not OAuth2 JSON (a login
// page, a proxy's error page): the token URL is wrong.
var ErrNotTokenEndpoint = errors.New("the token URL does not answer as an OAuth2 token endpoint")

// ErrTokenEndpointUnavailable reports a token endpoint that could not be
// reached, or answered 5xx or 429, for every attempt of a grant.
var ErrTokenEndpointUnavailable = errors.New("the token endpoint could not be reached")

// ErrTokenRefused reports that the download service answered 401 to a request
// even after the token was refreshed. It is permanent for that request.
var ErrTokenRefused = errors.New("the service refused a freshly issued token")

// ErrCredentialRefused reports that the download service refused a
// credential given ready-made (WCDL_TOKEN, --token-file, an API key), which
// wcdl cannot renew. It also matches ErrLoginFailed: the run stops at once.
var ErrCredentialRefused = errors.New("the service refused the given credential")

// ErrContainerRefused reports that a SAS token endpoint refused tokens
// for one storage account and container (an answer 4xx other than 401):
// the files of that container cannot be fetched, but the credential may
// serve other containers, so it does not match ErrLoginFailed. A
// *ContainerRefusedError carries it.
var ErrContainerRefused = errors.New("the SAS token endpoint refused the container")

// ErrBadTokenAnswer reports a token answer that cannot be used: a token
// holding a control character or white space, which no Authorization
// header can carry. It is permanent: the identity provider would answer the
// same again.
var ErrBadTokenAnswer = errors.New("the identity provider issued a token that cannot be sent")

// ErrInsecureTokenURL reports a password grant that would be sent over plain
// http to a host other than loopback.
var ErrInsecureTokenURL = errors.New("refusing to send credentials over plain http to a non-loopback host")

// loginError marks err as ending the run's logins: it matches
// ErrLoginFailed and kind under errors.Is, and reads as err.
type loginError struct {
	kind error
	err  error
}

func (e *loginError) Error() string   { return e.err.Error() }
func (e *loginError) Unwrap() []error { return []error{ErrLoginFailed, e.kind, e.err} }
