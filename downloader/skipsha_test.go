package downloader

import (
	"errors"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// TestSkipSHA256 checks that Config.SkipSHA256 leaves Result.SHA256 empty
// only where nothing asks for it: a manifest's sha256= and md5= are still
// computed and checked, also over a resumed part.
func TestSkipSHA256(t *testing.T) {
	const size = 1 << 20
	data := content(size, 7)
	tests := []struct {
		name    string
		cut     bool // the first answer is cut half-way: the file is resumed
		edit    func(e *manifest.Entry)
		wantErr error  // nil: downloaded
		wantSum string // Result.SHA256
	}{
		{name: "no sha256=", wantSum: ""},
		{name: "no sha256=, resumed", cut: true, wantSum: ""},
		{name: "sha256= matches", edit: func(e *manifest.Entry) { e.SHA256 = sha(data) }, wantSum: sha(data)},
		{name: "sha256= matches, resumed", cut: true, edit: func(e *manifest.Entry) { e.SHA256 = sha(data) }, wantSum: sha(data)},
		{name: "sha256= differs", edit: func(e *manifest.Entry) { e.SHA256 = sha([]byte("other")) }, wantErr: ErrChecksum},
		{name: "sha256= differs, resumed", cut: true, edit: func(e *manifest.Entry) { e.SHA256 = sha([]byte("other")) }, wantErr: ErrChecksum},
		{name: "md5= differs", edit: func(e *manifest.Entry) { e.MD5 = md5hex([]byte("other")) }, wantErr: ErrChecksum},
		{name: "md5= matches, resumed", cut: true, edit: func(e *manifest.Entry) { e.MD5 = md5hex(data) }, wantSum: ""},
	}
	for _, tt := range tests {
		forProtocols(t, tt.name, func(t *testing.T, p protocol) {
			s := newFakeService(t, p)
			f := &fakeFile{data: data}
			if tt.cut {
				f.cutAfter = cutFirst(1, size/2)
			}
			e := entry(s.add("/f.bin", f), "f.bin")
			if tt.edit != nil {
				tt.edit(&e)
			}
			d := newTest(t, s.cfg(Config{SkipSHA256: true, Attempts: 3}))
			r := run(t, d, e)[0]
			if tt.wantErr != nil {
				if r.Status != Failed || !errors.Is(r.Err, tt.wantErr) {
					t.Fatalf("got %s, %v; want failed with %v", r.Status, r.Err, tt.wantErr)
				}
				checkNoTemp(t, r.Path)
				return
			}
			if r.Status != Downloaded {
				t.Fatalf("Status = %s (%v), want downloaded", r.Status, r.Err)
			}
			checkFile(t, r.Path, data)
			if r.SHA256 != tt.wantSum {
				t.Errorf("SHA256 = %q, want %q", r.SHA256, tt.wantSum)
			}
			if wantAtts := 1 + btoi(tt.cut); r.Attempts != wantAtts {
				t.Errorf("Attempts = %d, want %d", r.Attempts, wantAtts)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
