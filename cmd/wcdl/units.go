package main

import "github.com/wcdl/wcdl/internal/units"

// unitHelp is what --help says about the sizes and rates people type.
const unitHelp = units.Help

// parseRate reads a rate in bytes per second (units.Parse); 0 means no
// limit.
func parseRate(s string) (int64, error) { return units.Rate(s) }

// parseSize reads a size in bytes (units.Parse).
func parseSize(s string) (int64, error) { return units.Size(s) }

// noMaxFileSize stands for --max-file-size 0: no cap a file could reach,
// yet room for the arithmetic on it.
const noMaxFileSize = units.Max
