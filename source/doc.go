// Package source knows where the copies of ESA WorldCover live: the URL
// layouts of the Terrascope download service, the AWS open-data bucket and
// the Planetary Computer's blob container, and which of them need
// credentials. Bind turns the products of a plan into candidate URLs, one
// per chosen source in order of preference, so that a download can fall
// back from one copy to the next.
//
// Manifests are parsed without knowing the sources (package manifest); the
// plan is bound to them afterwards.
package source
