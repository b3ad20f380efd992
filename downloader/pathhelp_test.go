package downloader

import (
	"context"
	"path/filepath"
)

// The helpers below reach a name in a folder by its path, for tests that
// look at or prepare a part or its metadata from outside a run.

func dirOf(path string) (*dirHandle, string, error) {
	d, err := openDir(filepath.Dir(path))
	return d, filepath.Base(path), err
}

func readMetaPath(path string) (partMeta, error) {
	d, name, err := dirOf(path)
	if err != nil {
		return partMeta{}, err
	}
	defer d.close()
	return readMeta(d, name)
}

func writeMetaPath(path string, m partMeta) error {
	d, name, err := dirOf(path)
	if err != nil {
		return err
	}
	defer d.close()
	return writeMeta(d, name, m)
}

// lockPartPath locks the part at path; the folder's handle stays open as
// long as the test process runs.
func lockPartPath(ctx context.Context, path string, onBusy func()) (*partLock, bool, error) {
	d, name, err := dirOf(path)
	if err != nil {
		return nil, false, err
	}
	return lockPart(ctx, d, name, onBusy)
}
