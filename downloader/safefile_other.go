//go:build !unix

package downloader

import (
	"os"
	"path/filepath"
)

// dirHandle is the output folder held as an os.Root: every name is
// resolved inside it, so renaming the folder away during a run cannot
// redirect a write. Without O_NOFOLLOW the last element is checked with
// Lstat first; on these systems a link could still be swapped in between,
// so an output folder shared with other accounts is only safe on unix
// systems.
type dirHandle struct {
	path string
	root *os.Root
}

func openDir(path string) (*dirHandle, error) {
	r, err := os.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	return &dirHandle{path: path, root: r}, nil
}

func (d *dirHandle) join(name string) string { return filepath.Join(d.path, name) }

func (d *dirHandle) close() error { return d.root.Close() }

// sync does nothing where folders cannot be opened for syncing.
func (d *dirHandle) sync() error { return nil }

// open opens name and checks that what was opened is a regular file.
func (d *dirHandle) open(name string, flag int, perm os.FileMode) (*os.File, error) {
	if fi, err := d.root.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		return nil, &notRegularError{path: d.join(name), kind: kindOf(fi.Mode())}
	}
	f, err := d.root.OpenFile(name, flag, perm)
	if err != nil {
		return nil, d.notRegular(name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &notRegularError{path: d.join(name), kind: kindOf(fi.Mode())}
	}
	return f, nil
}

func (d *dirHandle) lstat(name string) (fileStat, error) {
	fi, err := d.root.Lstat(name)
	if err != nil {
		return fileStat{}, err
	}
	return fileStat{mode: fi.Mode().Type(), size: fi.Size()}, nil
}

func (d *dirHandle) rename(oldname, newname string) error { return d.root.Rename(oldname, newname) }

func (d *dirHandle) remove(name string) error { return d.root.Remove(name) }

func (d *dirHandle) sameFile(f *os.File, name string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := d.root.Lstat(name)
	return err == nil && os.SameFile(a, b)
}
