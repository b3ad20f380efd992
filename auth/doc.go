// Package auth obtains and refreshes Keycloak (OpenID Connect) bearer tokens
// for a pool of download workers, and attaches them to requests for the hosts
// it trusts.
//
// One Provider is shared by every worker. It makes one password grant per
// run, refreshes the access token before it expires, and lets concurrent
// callers that need a new token share a single token request.
package auth
