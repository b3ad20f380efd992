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

// fileStat is what lstat tells of a name in the output folder.
type fileStat struct {
	mode     fs.FileMode // the type bits only: 0 for a regular file
	size     int64
	dev, ino uint64 // 0 where the system does not tell
}

func (s fileStat) isRegular() bool { return s.mode.IsRegular() }

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

// notRegular returns the error for name if what is there (not followed)
// is not a regular file, or err unchanged otherwise.
func (d *dirHandle) notRegular(name string, err error) error {
	if st, lerr := d.lstat(name); lerr == nil && !st.isRegular() {
		return &notRegularError{path: d.join(name), kind: kindOf(st.mode)}
	}
	return err
}

// checkFinal looks at what is at the final name, without following a
// link. Nothing or a symbolic link gives ok false; a regular file gives
// its size. A link is never trusted as a complete file and the verified
// download replaces it (the rename replaces the link itself, never what it
// points to). A directory or a special file in the way fails the entry.
func (d *dirHandle) checkFinal(name string) (size int64, ok bool, err error) {
	st, err := d.lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case st.isRegular():
		return st.size, true, nil
	case st.mode&fs.ModeSymlink != 0:
		return 0, false, nil
	}
	return 0, false, &notRegularError{path: d.join(name), kind: kindOf(st.mode) + " in the way of the final name"}
}

// createExcl creates a new regular file at name, first removing a regular
// file there. A link, a directory or a special file at name is refused.
func (d *dirHandle) createExcl(name string) (*os.File, error) {
	if st, err := d.lstat(name); err == nil {
		if !st.isRegular() {
			return nil, &notRegularError{path: d.join(name), kind: kindOf(st.mode)}
		}
		if err := d.remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	f, err := d.open(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, d.notRegular(name, err)
	}
	return f, err
}
