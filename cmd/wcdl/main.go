// Command wcdl downloads ESA WorldCover tiles, or any list of files, from a
// Keycloak-protected download service such as VITO's Terrascope: every file
// complete, verified and resumable, with one shared bearer token for all
// workers.
//
// Usage:
//
//	wcdl -manifest tiles.txt -o tiles
//	wcdl --simulate -manifest testdata/tiles.txt -o tiles
//
// Run "wcdl --help" for every flag; README.md has the manifest format, exit
// codes and the report's schema.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
