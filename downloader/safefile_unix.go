//go:build unix

package downloader

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// openFile opens path without following a symbolic link at its last
// element (O_NOFOLLOW) and without blocking on a named pipe (O_NONBLOCK),
// then checks what was opened (fstat): anything but a regular file is
// closed again and refused with an error naming the path, and so is a file
// opened for writing that has other hard links. Checking the
// open descriptor, not the path, leaves no gap for a link to be swapped in
// between the check and the use.
func openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	fd, err := unix.Open(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		switch {
		case errors.Is(err, unix.ELOOP):
			return nil, &notRegularError{path: path, kind: "a symbolic link"}
		case errors.Is(err, unix.EISDIR):
			return nil, &notRegularError{path: path, kind: "a directory"}
		case errors.Is(err, unix.ENXIO): // a socket, or a pipe without reader
			return nil, notRegular(path, &fs.PathError{Op: "open", Path: path, Err: err})
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

func kindOfStat(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return "a symbolic link"
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFIFO:
		return "a named pipe"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "a device"
	case unix.S_IFSOCK:
		return "a socket"
	}
	return "not a regular file"
}
