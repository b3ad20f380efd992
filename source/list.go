package source

import (
	"fmt"
	"strings"
)

// Parse reads a list of source names in order of preference, such as
// "aws,terrascope", and applies the download roots of roots: an entry
// "URL" replaces the root of the first source, "NAME=URL" that of the
// source called NAME, which must be in the list; of two roots for one
// source the later wins. A source named twice or an unknown name is an
// error.
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
		s, err := srcs[i].WithRoot(root) // a later root replaces an earlier one, as flags do
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
