//go:build unix

package downloader

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// dirHandle is the output folder held open: every name in it is opened,
// renamed, removed and looked at relative to the descriptor (openat,
// renameat, unlinkat, fstatat), never through the folder's path, so that
// renaming the folder away during a run and putting a link in its place
// cannot redirect a single write. Names are single path elements (the plan
// checks them), so no link is followed on the way to a file either.
//
// os.Root would give the same handle, but it follows a link at the last
// element as long as the link stays inside the folder (f.bin.part -> f.bin,
// say), and it does not document O_NOFOLLOW: openat with O_NOFOLLOW refuses
// every link, as TestOutputFolderIsBoundary requires. os.Root serves the
// systems without openat (safefile_other.go).
type dirHandle struct {
	path string // for messages
	f    *os.File
	fd   int
}

// openDir opens the folder at path once. A link at path itself is followed
// (the user named it), but only now: what the folder is stays fixed.
func openDir(path string) (*dirHandle, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return &dirHandle{path: path, f: os.NewFile(uintptr(fd), path), fd: fd}, nil
}

// join returns the path of name in the folder, for messages.
func (d *dirHandle) join(name string) string { return filepath.Join(d.path, name) }

func (d *dirHandle) close() error { return d.f.Close() }

// sync flushes the folder's entries (a rename, a removal) to disk.
func (d *dirHandle) sync() error { return d.f.Sync() }

// open opens name without following a symbolic link (O_NOFOLLOW) and
// without blocking on a named pipe (O_NONBLOCK), then checks what was
// opened (fstat): anything but a regular file is closed again and refused
// with an error naming the path, and so is a file opened for writing that
// has other hard links. Checking the open descriptor, not the path, leaves
// no gap for a link to be swapped in between the check and the use.
func (d *dirHandle) open(name string, flag int, perm os.FileMode) (*os.File, error) {
	path := d.join(name)
	fd, err := unix.Openat(d.fd, name, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		switch {
		case errors.Is(err, unix.ELOOP):
			return nil, &notRegularError{path: path, kind: "a symbolic link"}
		case errors.Is(err, unix.EISDIR):
			return nil, &notRegularError{path: path, kind: "a directory"}
		case errors.Is(err, unix.ENXIO): // a socket, or a pipe without reader
			return nil, d.notRegular(name, &fs.PathError{Op: "open", Path: path, Err: err})
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	if uint32(st.Mode)&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, &notRegularError{path: path, kind: kindOfStat(uint32(st.Mode))}
	}
	if flag&(unix.O_WRONLY|unix.O_RDWR) != 0 && st.Nlink > 1 {
		// A hard link planted at the name would make writes land in
		// another file (where fs.protected_hardlinks does not stop it).
		unix.Close(fd)
		return nil, &notRegularError{path: path, kind: "a file with other hard links"}
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// lstat describes what is at name, without following a link.
func (d *dirHandle) lstat(name string) (fileStat, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fileStat{}, &fs.PathError{Op: "lstat", Path: d.join(name), Err: err}
	}
	return fileStat{mode: modeOfStat(uint32(st.Mode)), size: st.Size, dev: uint64(st.Dev), ino: uint64(st.Ino)}, nil
}

// rename renames oldname to newname within the folder, replacing what is
// at newname (a link there is replaced, never followed).
func (d *dirHandle) rename(oldname, newname string) error {
	if err := unix.Renameat(d.fd, oldname, d.fd, newname); err != nil {
		return &os.LinkError{Op: "rename", Old: d.join(oldname), New: d.join(newname), Err: err}
	}
	return nil
}

// remove removes the file (not a directory) at name.
func (d *dirHandle) remove(name string) error {
	if err := unix.Unlinkat(d.fd, name, 0); err != nil {
		return &fs.PathError{Op: "remove", Path: d.join(name), Err: err}
	}
	return nil
}

// sameFile reports whether f is the file at name.
func (d *dirHandle) sameFile(f *os.File, name string) bool {
	var a unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &a); err != nil {
		return false
	}
	b, err := d.lstat(name)
	return err == nil && uint64(a.Dev) == b.dev && uint64(a.Ino) == b.ino
}

func modeOfStat(mode uint32) fs.FileMode {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return 0
	case unix.S_IFLNK:
		return fs.ModeSymlink
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	case unix.S_IFSOCK:
		return fs.ModeSocket
	}
	return fs.ModeIrregular
}

func kindOfStat(mode uint32) string { return kindOf(modeOfStat(mode)) }
