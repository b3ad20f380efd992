// Package auth obtains and renews the credentials a pool of download
// workers shares, and attaches them to requests for the hosts it trusts.
//
// A Provider logs in to Keycloak (OpenID Connect) once per run with the
// password grant, refreshes the access token before it expires, and lets
// concurrent callers that need a new token share a single token request;
// Transport adds its tokens as "Authorization: Bearer". A SASSource does
// the same for Azure Blob storage SAS tokens from a Planetary Computer
// style token endpoint, one per storage account and container, which
// SASTransport appends to the query of blob requests. StaticToken and
// TokenFile hand out credentials given ready-made (a bearer token, an API
// key in a header of its own) that need no login.
package auth
