package downloader

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/wcdl/wcdl/output"
)

// folder is the local output folder, the output.Location a Downloader
// writes to unless Config.Output names another. It is held open as a
// handle (dirHandle) for the whole run. Each file is received into
// <name>.part, locked while held (lockPart), described for a resume by
// <name>.part.meta (partMeta), and renamed to <name> once verified.
type folder struct {
	dir *dirHandle
}

var (
	_ output.Location = (*folder)(nil)
	_ output.File     = (*folderFile)(nil)
)

// openFolder opens the output folder at path, creating it if needed.
func openFolder(path string) (*folder, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	d, err := openDir(path)
	if err != nil {
		return nil, fmt.Errorf("open output folder: %w", err)
	}
	return &folder{dir: d}, nil
}

func (fo *folder) close() error { return fo.dir.close() }

// Where returns the path of name in the folder.
func (fo *folder) Where(name string) string { return fo.dir.join(name) }

// Features: parallel ranges are written at their offsets into the part,
// and the complete part is read back to be checked.
func (fo *folder) Features() output.Features { return output.Features{WriteAt: true, ReadBack: true} }

// Complete returns the size of the regular file at name. A symbolic link
// there is not complete (it is replaced, never followed); a directory or a
// special file is an ErrNotRegular error.
func (fo *folder) Complete(_ context.Context, name string) (output.Info, bool, error) {
	size, ok, err := fo.dir.checkFinal(name)
	return output.Info{Size: size}, ok, err
}

// Open takes the lock on <name>.part, creating it if needed.
func (fo *folder) Open(ctx context.Context, name string, onBusy func()) (output.File, error) {
	lock, created, err := lockPart(ctx, fo.dir, name+".part", onBusy)
	if err != nil {
		return nil, err
	}
	return &folderFile{dir: fo.dir, name: name, part: name + ".part", meta: name + ".part.meta", lock: lock, metaKnown: created}, nil
}

// folderFile is one file's part, locked.
type folderFile struct {
	dir              *dirHandle
	name, part, meta string
	lock             *partLock // held from Open to Close

	// metaKnown: whether a meta is beside the part is known (metaOnDisk);
	// a part that was there before the lock was taken may have one, not
	// looked for until Held is called. A part created by this Open has
	// none (a meta never outlives its part), so nothing is looked up or
	// removed for it unless a Save writes one.
	metaKnown, metaOnDisk bool
	rec                   output.Record // what the meta on disk says, if it was read whole
	published             bool
}

// Held returns the part's length, read from its descriptor, and its
// metadata. A link or special file at the metadata's name is an
// ErrNotRegular error.
func (f *folderFile) Held(context.Context) (output.Held, error) {
	size, err := f.lock.size()
	if err != nil {
		return output.Held{}, fmt.Errorf("partial file %s: %w", f.dir.join(f.part), err)
	}
	if !f.metaKnown {
		m, err := readMeta(f.dir, f.meta)
		if errors.Is(err, ErrNotRegular) {
			return output.Held{}, err
		}
		f.metaKnown, f.metaOnDisk = true, !errors.Is(err, fs.ErrNotExist)
		if err == nil {
			f.rec = m.record()
		}
	}
	return output.Held{Size: size, Record: f.rec}, nil
}

// WriteAt writes into the part through the locked descriptor, never
// through its name.
func (f *folderFile) WriteAt(p []byte, off int64) (int, error) {
	pf, err := f.lock.file()
	if err != nil {
		return 0, err
	}
	return pf.WriteAt(p, off)
}

// ReadAt reads the part.
func (f *folderFile) ReadAt(p []byte, off int64) (int, error) {
	pf, err := f.lock.file()
	if err != nil {
		return 0, err
	}
	return pf.ReadAt(p, off)
}

// osFile returns the part's descriptor, for hints to the disk.
func (f *folderFile) osFile() *os.File {
	pf, _ := f.lock.file()
	return pf
}

// writeback hands n bytes of the slot from off to the disk, where the
// slot is a local part (see Downloader.writeback).
func (j *job) writeback(off, n int64) {
	if of, ok := j.f.(interface{ osFile() *os.File }); ok {
		if f := of.osFile(); f != nil {
			j.d.writeback(f, off, n)
		}
	}
}

// preallocate reserves room for n bytes of the slot from off, where the
// slot is a local part (see preallocate).
func (j *job) preallocate(off, n int64) {
	if of, ok := j.f.(interface{ osFile() *os.File }); ok {
		if f := of.osFile(); f != nil {
			preallocate(f, off, n)
		}
	}
}

// Save writes rec to <name>.part.meta without fsync (see writeMeta): a
// file fetched in ranges replaces the metadata there atomically (see
// replaceMeta), one stream writes it once. When it fails, the metadata
// there before is removed too: it may describe the part as one stream
// while ranges are written beyond its end, and a later run must not
// resume from it.
func (f *folderFile) Save(_ context.Context, rec output.Record) error {
	var err error
	if len(rec.Done) > 0 {
		err = replaceMeta(f.dir, f.meta, metaOf(rec))
	} else {
		err = writeMeta(f.dir, f.meta, metaOf(rec))
	}
	if err != nil {
		f.removeMeta()
		return err
	}
	f.metaKnown, f.metaOnDisk, f.rec = true, true, rec
	return nil
}

// Discard removes the metadata, then empties the part through its
// descriptor. The part itself stays while the lock is held (see lockPart);
// Close removes it.
func (f *folderFile) Discard(context.Context) error {
	f.removeMeta()
	if err := f.lock.truncate(); err != nil {
		return fmt.Errorf("truncate partial file %s: %w", f.dir.join(f.part), err)
	}
	return nil
}

// removeMeta removes the part's metadata if it is known to exist.
func (f *folderFile) removeMeta() {
	if f.metaOnDisk {
		f.dir.remove(f.meta)
	}
	f.metaOnDisk, f.rec = false, output.Record{}
}

// Publish syncs the part, renames it to the final name and syncs the
// folder: a file at its final name is always complete. The metadata goes
// first, so that it never outlives its part: a crash right after costs
// this file a restart, never a stray meta.
func (f *folderFile) Publish(context.Context, int64) error {
	pf, err := f.lock.file()
	if err == nil {
		err = pf.Sync()
	}
	if err == nil && !f.dir.sameFile(pf, f.part) {
		// Renamed away or replaced by another account of a shared
		// folder: the rename below would publish what is there now.
		err = &notRegularError{path: f.dir.join(f.part), kind: "no longer the file that was downloaded and checked"}
	}
	f.lock.release()
	if err != nil {
		return fmt.Errorf("write partial file %s: %w", f.dir.join(f.part), err)
	}
	f.removeMeta()
	if err := f.dir.rename(f.part, f.name); err != nil {
		return fmt.Errorf("publish %s: %w", f.dir.join(f.name), f.dir.notRegular(f.name, err))
	}
	f.published = true
	if err := f.dir.sync(); err != nil {
		return fmt.Errorf("publish %s: %w", f.dir.join(f.name), err)
	}
	return nil
}

// Close unlocks the part. A part that holds no byte, or whose bytes no
// metadata describes (the version has no validator: a later run would
// restart it anyway), is removed first, with its metadata: a failed or
// skipped file leaves no part that costs disk for nothing.
func (f *folderFile) Close() error {
	remove := false
	if !f.published {
		n, err := f.lock.size()
		if err == nil && (n == 0 || (f.metaKnown && !f.metaOnDisk)) {
			f.removeMeta()
			remove = true
		}
	}
	f.lock.unlock(remove)
	return nil
}
