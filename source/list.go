package source

import (
	"fmt"
	"strings"
)

// Parse reads a list of source names in order of preference, such as
// "aws,terrascope", and applies the download roots of roots: an entry
// "URL" replaces the root of the first source, "NAME=URL" that of the
// source called NAME, which must be in the list. A source named twice, an
// unknown name or a root given twice is an error.
func Parse(list string, roots []string) ([]Source, error) {
	var srcs []Source
	for _, name := range strings.Split(list, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		s, err := Lookup(name)
		if err != nil {
			return nil, err
		}
		for _, o := range srcs {
			if o.Name == name {
				return nil, fmt.Errorf("source %s is listed twice", name)
			}
		}
		srcs = append(srcs, s)
	}
	set := make(map[string]bool, len(roots))
	for _, r := range roots {
		i, root := 0, r
		if name, rest, ok := strings.Cut(r, "="); ok && !strings.Contains(name, "/") && !strings.Contains(name, ":") {
			i, root = -1, rest
			for k, s := range srcs {
				if s.Name == strings.ToLower(name) {
					i = k
				}
			}
			if i < 0 {
				if _, err := Lookup(strings.ToLower(name)); err != nil {
					return nil, err
				}
				return nil, fmt.Errorf("a download root is given for source %s, which is not in the list %s", name, list)
			}
		}
		if set[srcs[i].Name] {
			return nil, fmt.Errorf("the download root of source %s is given twice", srcs[i].Name)
		}
		set[srcs[i].Name] = true
		s, err := srcs[i].WithRoot(root)
		if err != nil {
			return nil, err
		}
		srcs[i] = s
	}
	return srcs, nil
}

// Find returns the source called name in srcs.
func Find(srcs []Source, name string) (Source, bool) {
	for _, s := range srcs {
		if s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}
