package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/wcdl/wcdl/auth"
)

// envCredentials are the variables wcdl reads besides those of its flags
// (WCDL_<FLAG>): credentials, which never go on a command line (access.go
// and auth read them).
var envCredentials = []string{auth.EnvUsername, auth.EnvPassword, envToken, envAPIKey, envSubscriptionKey}

// envAround are WCDL_ variables that wcdl does not read but its own
// scripts and tests do (bench/, .ci/run, interop/): not typos.
var envAround = []string{"WCDL_BEFORE", "WCDL_CI_TOOLS", "WCDL_VERSITYGW", "WCDL_AZURITE_BLOB"}

// envKnown returns every WCDL_ variable wcdl reads: one per flag of fs
// and envCredentials.
func envKnown(fs *pflag.FlagSet) []string {
	known := slices.Clone(envCredentials)
	fs.VisitAll(func(f *pflag.Flag) { known = append(known, envName(f.Name)) })
	return known
}

// unknownEnv returns one warning for each WCDL_ variable of environ that
// wcdl does not read, with the nearest known name when one is close, so
// that WCDL_WORKRS=8 does not pass unnoticed.
func unknownEnv(fs *pflag.FlagSet, environ []string) []string {
	known := envKnown(fs)
	var warnings []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "WCDL_") || slices.Contains(known, name) ||
			slices.Contains(envAround, name) || strings.HasPrefix(name, "WCDL_TEST_") {
			continue
		}
		msg := fmt.Sprintf("%s is not a variable wcdl reads; it is ignored", name)
		var suffixes []string
		for _, k := range known {
			suffixes = append(suffixes, strings.TrimPrefix(k, "WCDL_"))
		}
		if near := closest(strings.TrimPrefix(name, "WCDL_"), suffixes); near != "" {
			msg += fmt.Sprintf(" (did you mean WCDL_%s?)", near)
		}
		warnings = append(warnings, msg)
	}
	return warnings
}

// closest returns the name of names nearest to typed, if one starts with
// it or is within two edits of it (one, for a name of five letters or
// fewer); else "".
func closest(typed string, names []string) string {
	best, bestDist := "", 3
	if len(typed) <= 5 {
		bestDist = 2
	}
	for _, n := range names {
		d := editDistance(typed, n)
		if strings.HasPrefix(n, typed) && len(typed) >= 3 {
			d = min(d, 1)
		}
		if d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// singleDashFlag returns a usage error for a Go-style long flag that does
// not exist, such as "-worker=8": pflag reads it as -w with the value
// "orker=8" and complains about that value, or reads "-manfest x" as -m
// "anfest" and then finds x in the way. parseErr is what parsing args gave
// (a pflag error, or the unexpected argument); nil is returned when no
// such flag explains it.
func singleDashFlag(fs *pflag.FlagSet, args []string, parseErr string) error {
	for i, a := range args {
		if a == "--" {
			break
		}
		if len(a) < 4 || a[0] != '-' || a[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(a[1:], "=")
		if fs.Lookup(name) != nil || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz-") != "" {
			continue
		}
		// The part pflag took for a shorthand's value, or the argument
		// after it, is what the error is about.
		blamed := strings.Contains(parseErr, fmt.Sprintf("%q", a[2:])) || strings.HasSuffix(parseErr, " in "+a) ||
			(i+1 < len(args) && strings.Contains(parseErr, fmt.Sprintf("%q", args[i+1])))
		if !blamed {
			continue
		}
		var names []string
		fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
		if near := closest(name, names); near != "" {
			return usageError("unknown flag: -%s (did you mean --%s?)", name, near)
		}
		return usageError("unknown flag: -%s", name)
	}
	return nil
}
