package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// unitHelp is what --help says about the sizes and rates people type.
const unitHelp = "Sizes and rates take K, M, G or T, each a power of 1024, with or without i and B:\n20M, 20MB and 20MiB are all 20971520 bytes (as curl, wget and aria2 count).\n"

// maxBytes bounds a size or rate: far beyond any file, and far from
// overflowing the arithmetic done with it.
const maxBytes = 1 << 60

// parseBytes reads a byte count such as "500K", "20MB", "20MiB", "1.5G" or
// "2T": K, M, G and T are powers of 1024 whatever the spelling (k or K, with
// or without i, with or without a final B). "0" gives 0; the empty string
// gives 0 too. what names the quantity in the error: "rate" or "size".
func parseBytes(s, what string) (int64, error) {
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
	if err != nil || math.IsNaN(v) || v < 0 || (v > 0 && bytes < 1) || bytes > maxBytes {
		example := "500K, 20M (or 20MB, 20MiB) or 1G"
		if what == "size" {
			example = "64G, 1.5T or 500MiB"
		}
		return 0, fmt.Errorf("%q is not a %s: want bytes%s such as %s (K, M, G, T are powers of 1024; 0 for none)", s, what, map[string]string{"rate": " per second"}[what], example)
	}
	return int64(bytes), nil
}

// parseRate reads a rate in bytes per second (parseBytes); 0 means no
// limit.
func parseRate(s string) (int64, error) { return parseBytes(s, "rate") }

// parseSize reads a size in bytes (parseBytes).
func parseSize(s string) (int64, error) { return parseBytes(s, "size") }

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// noMaxFileSize stands for --max-file-size 0: no cap a file could reach,
// yet room for the arithmetic on it.
const noMaxFileSize = maxBytes
