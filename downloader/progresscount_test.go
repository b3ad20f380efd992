package downloader

import (
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// TestProgressSizedCounts: FilesSized counts the entries that add bytes to
// BytesExpected, FilesUnsized those whose size is still unknown, so that a
// display can estimate the total without guessing which files started:
// before a run every entry without size= is unsized, after it none is, and
// files missing or already complete add nothing.
func TestProgressSizedCounts(t *testing.T) {
	s := newFakeService(t)
	var entries []manifest.Entry
	for i := range 6 {
		name := "f" + string(rune('a'+i)) + ".bin"
		url := s.URL + "/" + name // 404
		if i < 4 {
			url = s.add("/"+name, &fakeFile{data: content(5000, uint64(i))})
		}
		e := entry(url, name)
		e.MayBeMissing = true
		if i == 0 {
			e.Size = 5000
		}
		entries = append(entries, e)
	}
	d := newTest(t, Config{Workers: 2})
	d.resetProgress(entries)
	if p := d.Progress(); p.FilesSized != 1 || p.FilesUnsized != 5 || p.BytesExpected != 5000 {
		t.Errorf("before the run: sized %d, unsized %d, expected %d; want 1, 5, 5000 (the entry with size=)", p.FilesSized, p.FilesUnsized, p.BytesExpected)
	}
	run(t, d, entries...)
	if p := d.Progress(); p.FilesSized != 4 || p.FilesUnsized != 0 || p.BytesExpected != 4*5000 || p.Missing != 2 {
		t.Errorf("after the run: %+v; want 4 sized, 0 unsized, 20000 bytes expected, 2 missing", p)
	}
	// A rerun skips the four files: they add nothing, and are not unsized.
	run(t, d, entries...)
	if p := d.Progress(); p.FilesSized != 0 || p.FilesUnsized != 0 || p.Skipped != 4 {
		t.Errorf("rerun: %+v; want 0 sized, 0 unsized, 4 skipped", p)
	}
}
