// Package interop holds wcdl's tests against real servers run on loopback:
// an OAuth2 server library, an S3 server (versitygw), Azure's storage
// emulator (Azurite). It is a module of its own so that their dependencies
// never weigh on everyone who builds wcdl; it uses the main module through
// a replace directive. Run its tests from this folder: go test -race ./...
package interop
