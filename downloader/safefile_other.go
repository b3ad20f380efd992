//go:build !unix

package downloader

import (
	"os"
)

// openFile opens path and checks that what was opened is a regular file.
// Without O_NOFOLLOW the last element is checked with Lstat first; on these
// systems a link could still be swapped in between, so an output folder
// shared with other accounts is only safe on unix systems.
func openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, &notRegularError{path: path, kind: kindOf(fi.Mode())}
	}
	f, err := os.OpenFile(path, flag, perm)
	if err != nil {
		return nil, notRegular(path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &notRegularError{path: path, kind: kindOf(fi.Mode())}
	}
	return f, nil
}
