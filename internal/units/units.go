// Package units reads the byte counts people type for sizes and rates
// ("500K", "20MB", "20MiB", "1.5G"), for wcdl's flags and wcdl-sim's.
package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Help is what a --help says about the sizes and rates people type.
const Help = "Sizes and rates take K, M, G or T, each a power of 1024, with or without i and B:\n20M, 20MB and 20MiB are all 20971520 bytes (as curl, wget and aria2 count).\n"

// Max bounds a size or rate: far beyond any file, and far from overflowing
// the arithmetic done with it.
const Max = 1 << 60

// Parse reads a byte count such as "500K", "20MB", "20MiB", "1.5G" or
// "2T": K, M, G and T are powers of 1024 whatever the spelling (k or K,
// with or without i, with or without a final B). "0" gives 0; the empty
// string gives 0 too. what names the quantity in the error: "rate" or
// "size".
func Parse(s, what string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	num := strings.TrimSpace(s)
	if n := len(num); n > 0 && (num[n-1] == 'B' || num[n-1] == 'b') {
		num = num[:n-1]
	}
	if n := len(num); n > 1 && (num[n-1] == 'i' || num[n-1] == 'I') {
		num = num[:n-1]
	}
	mult := 1.0
	if n := len(num); n > 0 {
		if i := strings.IndexByte("KMGT", upper(num[n-1])); i >= 0 {
			mult, num = math.Pow(1024, float64(i+1)), num[:n-1]
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	bytes := v * mult
	if err != nil || math.IsNaN(v) || v < 0 || (v > 0 && bytes < 1) || bytes > Max {
		example := "500K, 20M (or 20MB, 20MiB) or 1G"
		if what == "size" {
			example = "64G, 1.5T or 500MiB"
		}
		return 0, fmt.Errorf("%q is not a %s: want bytes%s such as %s (K, M, G, T are powers of 1024; 0 for none)", s, what, map[string]string{"rate": " per second"}[what], example)
	}
	return int64(bytes), nil
}

// Rate reads a rate in bytes per second (Parse); 0 means no limit.
func Rate(s string) (int64, error) { return Parse(s, "rate") }

// Size reads a size in bytes (Parse).
func Size(s string) (int64, error) { return Parse(s, "size") }

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// A Flag is a byte count set from a command line with units: a
// flag.Value and a pflag.Value.
type Flag struct {
	p    *int64
	what string
}

// NewFlag returns a Flag that stores into p, set to def now; what is
// "rate" or "size", as for Parse.
func NewFlag(p *int64, def int64, what string) *Flag {
	*p = def
	return &Flag{p: p, what: what}
}

// Set parses s into the flag's value.
func (f *Flag) Set(s string) error {
	n, err := Parse(s, f.what)
	if err != nil {
		return err
	}
	*f.p = n
	return nil
}

// String is the value in bytes.
func (f *Flag) String() string {
	if f == nil || f.p == nil {
		return "0"
	}
	return strconv.FormatInt(*f.p, 10)
}

// Type names the value in pflag's help: a size or a rate.
func (f *Flag) Type() string { return f.what }
