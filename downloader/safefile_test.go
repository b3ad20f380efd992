//go:build unix

package downloader

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// plant puts a thing of the given kind at path: a symbolic link to victim,
// a named pipe or a directory.
func plant(t *testing.T, kind, path, victim string) {
	t.Helper()
	var err error
	switch kind {
	case "symlink":
		err = os.Symlink(victim, path)
	case "fifo":
		err = unix.Mkfifo(path, 0o644)
	case "dir":
		err = os.Mkdir(path, 0o755)
	case "hardlink":
		err = os.Link(victim, path)
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestOutputFolderIsBoundary plants links, named pipes and directories at
// every name an entry touches and checks that wcdl neither follows nor
// writes into them: the file a link points to is left as it was, and the
// entry fails naming the path, except for a link at the final name, which
// the verified download replaces.
func TestOutputFolderIsBoundary(t *testing.T) {
	data := content(4*metaAfter, 91) // large enough to get a .part.meta
	const victimText = "precious: must never be read, truncated or written"
	for _, suffix := range []string{"", ".part", ".part.meta"} {
		for _, kind := range []string{"symlink", "fifo", "dir", "hardlink"} {
			for _, withPart := range []bool{false, true} {
				if withPart && suffix != ".part.meta" {
					continue // a part beside the meta matters only for the meta
				}
				name := "f.bin" + suffix + " " + kind
				if withPart {
					name += " beside a part"
				}
				t.Run(name, func(t *testing.T) {
					s := newFakeService(t)
					u := s.add("/f.bin", &fakeFile{data: data})
					dir := t.TempDir()
					victim := filepath.Join(t.TempDir(), "victim")
					if err := os.WriteFile(victim, []byte(victimText), 0o644); err != nil {
						t.Fatal(err)
					}
					final := filepath.Join(dir, "f.bin")
					if withPart {
						if err := os.WriteFile(final+".part", data[:1000], 0o644); err != nil {
							t.Fatal(err)
						}
					}
					plant(t, kind, final+suffix, victim)
					e := entry(u, "f.bin")
					// Size unknown: a regular file at the final name would be
					// trusted as complete; a link to one must not be.
					if suffix != "" {
						e.Size = int64(len(data))
					}
					d := newTest(t, Config{Dir: dir, Attempts: 3})
					r := run(t, d, e)[0]

					if got, err := os.ReadFile(victim); err != nil || string(got) != victimText {
						t.Fatalf("the file the link points to was changed: %q, %v", got, err)
					}
					if suffix == "" && kind == "hardlink" {
						// A regular file at the final name: trusted as
						// complete (size unknown), and left alone.
						if r.Status != Skipped {
							t.Fatalf("Status = %s (%v), want skipped", r.Status, r.Err)
						}
						return
					}
					if suffix == ".part.meta" && kind == "hardlink" {
						// Metadata is written into a new file: the link is
						// removed, what it shares an inode with is untouched.
						if r.Status != Downloaded {
							t.Fatalf("Status = %s (%v), want downloaded", r.Status, r.Err)
						}
						checkFile(t, final, data)
						return
					}
					if suffix == "" && kind == "symlink" {
						if r.Status != Downloaded {
							t.Fatalf("Status = %s (%v), want downloaded: the link is replaced", r.Status, r.Err)
						}
						if fi, err := os.Lstat(final); err != nil || !fi.Mode().IsRegular() {
							t.Fatalf("final name is not a regular file: %v %v", fi, err)
						}
						checkFile(t, final, data)
						return
					}
					if r.Status != Failed || !errors.Is(r.Err, ErrNotRegular) {
						t.Fatalf("Status = %s, Err = %v; want failed with ErrNotRegular", r.Status, r.Err)
					}
					if !strings.Contains(r.Err.Error(), final+suffix) {
						t.Errorf("error %q does not name %s", r.Err, final+suffix)
					}
					if r.Attempts > 1 {
						t.Errorf("Attempts = %d: a name taken by a link or special file is final", r.Attempts)
					}
					fi, err := os.Lstat(final + suffix)
					if err != nil || (fi.Mode().IsRegular() && kind != "hardlink") {
						t.Errorf("what was planted at %s was replaced (%v, %v)", final+suffix, fi, err)
					}
					if suffix != "" {
						if _, err := os.Lstat(final); err == nil {
							t.Errorf("a final file was published although the entry failed")
						}
					}
				})
			}
		}
	}
}

// TestReadMetaRefusesSpecialFiles reads metadata through a link and from a
// named pipe: neither is opened for what it points to, and the pipe does
// not block the reader.
func TestReadMetaRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte(`{"url_sha256":"x","etag":"\"a\"","size":10}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"symlink", "fifo", "dir"} {
		p := filepath.Join(dir, kind)
		plant(t, kind, p, target)
		if _, err := readMetaPath(p); !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: readMeta error %v, want ErrNotRegular", kind, err)
		}
		if err := writeMetaPath(p, partMeta{ETag: `"a"`, Size: 10}); !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: writeMeta error %v, want ErrNotRegular", kind, err)
		}
	}
	if b, _ := os.ReadFile(target); !bytes.Contains(b, []byte(`"size":10`)) {
		t.Errorf("target changed: %s", b)
	}
}
