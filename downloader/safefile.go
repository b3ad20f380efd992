package downloader

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// notRegularError names the path and what was found there.
type notRegularError struct {
	path string
	kind string
}

func (e *notRegularError) Error() string {
	return fmt.Sprintf("%s is %s, %v: wcdl never follows links or writes into special files in the output folder; remove it and run again", e.path, e.kind, ErrNotRegular)
}

func (e *notRegularError) Unwrap() error { return ErrNotRegular }

// kindOf describes a file mode that is not a regular file.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// notRegular returns the error for path if what is there (not followed) is
// not a regular file, or err unchanged otherwise.
func notRegular(path string, err error) error {
	if fi, lerr := os.Lstat(path); lerr == nil && !fi.Mode().IsRegular() {
		return &notRegularError{path: path, kind: kindOf(fi.Mode())}
	}
	return err
}

// checkFinal looks at what is at the final name, without following a link.
// Nothing, a regular file or a symbolic link is fine: a link is never
// trusted as a complete file and the verified download replaces it (the
// rename replaces the link itself, never what it points to). A directory
// or a special file in the way fails the entry.
func checkFinal(path string) (fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, err
	case fi.Mode().IsRegular() || fi.Mode()&fs.ModeSymlink != 0:
		return fi, nil
	}
	return nil, &notRegularError{path: path, kind: kindOf(fi.Mode()) + " in the way of the final name"}
}

// createExcl creates a new regular file at path, first removing a regular
// file there. A link, a directory or a special file at path is refused.
func createExcl(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return nil, &notRegularError{path: path, kind: kindOf(fi.Mode())}
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	f, err := openFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, notRegular(path, err)
	}
	return f, err
}
