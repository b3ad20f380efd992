package manifest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// A Plan is the checked set of files to download: every entry has a unique
// URL and a unique, safe output Name, unique even ignoring case (so that no
// two entries share a file on macOS or Windows).
type Plan struct {
	// Entries in input order, duplicates removed.
	Entries []Entry

	// Warnings about the input that do not stop the download, such as an
	// entry listed twice.
	Warnings []string
}

// NewPlan unites groups of entries (from Parse and ParseBBox) into a Plan.
//
// An entry whose URL was already seen is dropped with a warning naming both
// sources; the kept entry takes the expectations (size, checksums) of both,
// and may be missing only if both may. Two entries with the same URL but
// different sizes or checksums are an error, and so are two different URLs
// that would be written to the same Name (ignoring case), or an entry whose Name is not a
// single safe file name. Errors come as an Errors listing every problem.
func NewPlan(groups ...[]Entry) (*Plan, error) {
	n := 0
	for _, g := range groups {
		n += len(g)
	}
	p := &Plan{Entries: make([]Entry, 0, n)}
	byURL := make(map[string]int, n)
	byName := make(map[string]int, n)
	var errs Errors
	// overlaps counts the entries two inputs share, by pair, in the order
	// first seen: told in one line per pair, not one per file.
	var overlaps []shared
	fail := func(e *Entry, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if e.Source.File == "" {
			if s := e.Source.String(); s != "" {
				msg = s + ": " + msg
			}
		}
		errs = append(errs, &Error{File: e.Source.File, Line: e.Source.Line, Msg: msg})
	}
	for _, g := range groups {
		for i := range g {
			e := &g[i]
			if e.URL == "" {
				fail(e, "entry has no URL")
				continue
			}
			if msg := checkName(e.Name); msg != "" {
				fail(e, "entry %s", msg)
				continue
			}
			if j, ok := byURL[e.URL]; ok {
				k := &p.Entries[j]
				if msg := conflict(k, e); msg != "" {
					fail(e, "%s duplicates %s (same URL) with conflicting expectations: %s", e.Name, k.Source, msg)
					continue
				}
				merge(k, e)
				if e.Source.File != "" && e.Source.File == k.Source.File {
					// A line repeated in one manifest: a slip to fix.
					p.Warnings = append(p.Warnings, fmt.Sprintf("%s: %s duplicates %s (same URL); kept once", e.Source, e.Name, k.Source))
				} else {
					overlaps = countOverlap(overlaps, input(e.Source), input(k.Source))
				}
				continue
			}
			folded := foldKey(e.Name)
			if j, ok := byName[folded]; ok {
				k := &p.Entries[j]
				if k.Name == e.Name {
					fail(e, "this URL and the different URL at %s would both be written to %s", k.Source, quote(e.Name))
				} else {
					fail(e, "this URL would be written to %s and the one at %s to %s, the same file on case-insensitive file systems", quote(e.Name), k.Source, quote(k.Name))
				}
				continue
			}
			byURL[e.URL] = len(p.Entries)
			byName[folded] = len(p.Entries)
			p.Entries = append(p.Entries, *e)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	for _, o := range overlaps {
		files := "1 file is"
		if o.n > 1 {
			files = fmt.Sprintf("%d files are", o.n)
		}
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s overlaps %s: %s in both, downloaded once", o.a, o.b, files))
	}
	return p, nil
}

// A shared is the number of entries of input a that input b selected
// already.
type shared struct {
	a, b string
	n    int
}

// countOverlap adds one shared entry to the pair (a, b).
func countOverlap(os []shared, a, b string) []shared {
	for i := range os {
		if os[i].a == a && os[i].b == b {
			os[i].n++
			return os
		}
	}
	return append(os, shared{a, b, 1})
}

// input names the input an entry came from: a manifest file, a box or an
// area, without the line.
func input(s Source) string {
	if s.BBox != "" || s.AOI != "" {
		return s.String()
	}
	return s.File
}

// foldKey returns a key equal for two names exactly when strings.EqualFold
// holds for them: each rune is replaced by the smallest rune of its case
// folding orbit (so K, k and the Kelvin sign fold together, and so do s,
// S and the long s ſ, which strings.ToLower keeps apart).
func foldKey(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

// conflict says how the expectations of a and b disagree, or "".
func conflict(a, b *Entry) string {
	var diffs []string
	if a.Size >= 0 && b.Size >= 0 && a.Size != b.Size {
		diffs = append(diffs, fmt.Sprintf("size %d there but %d here", a.Size, b.Size))
	}
	if a.SHA256 != "" && b.SHA256 != "" && a.SHA256 != b.SHA256 {
		diffs = append(diffs, "a different sha256")
	}
	if a.MD5 != "" && b.MD5 != "" && a.MD5 != b.MD5 {
		diffs = append(diffs, "a different md5")
	}
	if len(diffs) == 0 {
		return ""
	}
	return strings.Join(diffs, ", ")
}

// merge gives kept the expectations of dup that it lacks.
func merge(kept, dup *Entry) {
	if kept.Size < 0 {
		kept.Size = dup.Size
	}
	if kept.SHA256 == "" {
		kept.SHA256 = dup.SHA256
	}
	if kept.MD5 == "" {
		kept.MD5 = dup.MD5
	}
	kept.MayBeMissing = kept.MayBeMissing && dup.MayBeMissing
}

// Shard returns the part of the plan that shard k of n downloads, for
// splitting one plan over n workers (such as a Kubernetes indexed Job, whose
// JOB_COMPLETION_INDEX is k). k counts from 0: 0 <= k < n. An entry's shard
// depends only on its Name (FNV-1a, modulo n), never on its position, so
// every worker computes the same split from any ordering of the same input,
// and the n shards together hold every entry exactly once. Warnings are
// those of the whole plan. Shard panics if k or n is out of range; ParseShard
// checks them.
func (p *Plan) Shard(k, n int) *Plan {
	if n < 1 || k < 0 || k >= n {
		panic(fmt.Sprintf("manifest: Shard(%d, %d): want 0 <= k < n", k, n))
	}
	out := &Plan{Warnings: p.Warnings}
	for _, e := range p.Entries {
		if shardOf(e.Name, n) == k {
			out.Entries = append(out.Entries, e)
		}
	}
	return out
}

// shardOf returns the shard, in [0, n), of the entry named name.
func shardOf(name string, n int) int {
	// FNV-1a, 64 bits.
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return int(h % uint64(n))
}

// ParseShard parses a shard spec "K/N", as given to --shard: shard K of N,
// with K counting from 0 (like JOB_COMPLETION_INDEX), so 0 <= K < N.
func ParseShard(s string) (k, n int, err error) {
	ks, ns, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("shard %s: want K/N, such as 0/4 (K counts from 0)", quote(s))
	}
	k, err1 := parseCount(strings.TrimSpace(ks))
	n, err2 := parseCount(strings.TrimSpace(ns))
	switch {
	case err1 != nil:
		return 0, 0, fmt.Errorf("shard %s: K is not a non-negative whole number", quote(s))
	case err2 != nil:
		return 0, 0, fmt.Errorf("shard %s: N is not a non-negative whole number", quote(s))
	case n < 1:
		return 0, 0, fmt.Errorf("shard %s: N must be at least 1", quote(s))
	case k >= n:
		return 0, 0, fmt.Errorf("shard %s: K must be below N: shards count from 0, as JOB_COMPLETION_INDEX does, so the last of %d is %d/%d", quote(s), n, n-1, n)
	}
	return k, n, nil
}

// parseCount parses a non-negative decimal int.
func parseCount(s string) (int, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	return strconv.Atoi(s)
}
