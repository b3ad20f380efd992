package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkPaths finds, before any prompt or login, the mistakes in the paths
// that would otherwise surface only after the password was typed or the
// batch was done: an output folder that cannot be created or written, and
// a report whose folder is missing or read-only. It creates nothing that
// stays: the output folder is made only when the run starts.
func checkPaths(o *options) error {
	if isBucket(o.out) {
		// Checked by openBucket, against the bucket.
	} else if err := checkOutDir(o.out); err != nil {
		return fmt.Errorf("output folder %s: %w", o.out, err)
	}
	if o.report != "" && o.report != "-" {
		if err := checkReport(o.report); err != nil {
			return fmt.Errorf("--report %s: %w", o.report, err)
		}
	}
	return nil
}

// checkOutDir checks that dir is a writable folder, or that its nearest
// existing ancestor is one, so that it can be created.
func checkOutDir(dir string) error {
	p := filepath.Clean(dir)
	for {
		fi, err := os.Stat(p)
		switch {
		case err == nil && !fi.IsDir():
			if p == filepath.Clean(dir) {
				return errors.New("a file is in its place")
			}
			return fmt.Errorf("%s is a file, not a folder", p)
		case err == nil:
			return checkWritable(p)
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return err
		}
		p = parent
	}
}

// checkReport checks that the report can be written at path: its folder
// exists and is writable, and path is not a folder.
func checkReport(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.New("is a folder")
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("folder %s does not exist", dir)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s is a file, not a folder", dir)
	}
	return checkWritable(dir)
}

// checkWritable checks that a file can be created in dir, by creating and
// removing one: permission bits alone do not tell (ACLs, read-only mounts).
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".wcdl-check-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
