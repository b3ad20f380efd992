package downloader

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// rangeTest returns a Downloader with small ranges (rangeMin 128 KiB,
// metadata saved every 16 KiB of a range) over s.
func rangeTest(t *testing.T, s *fakeService, cfg Config) *Downloader {
	t.Helper()
	d := newTest(t, s.cfg(cfg))
	d.rangeMin, d.rangeSave = 128<<10, 16<<10
	return d
}

// asked returns the byte spans of the Range headers of reqs ([0, size)
// for a request without one).
func asked(t *testing.T, reqs []seenRequest, size int64) []span {
	t.Helper()
	var out []span
	for _, r := range reqs {
		if r.Range == "" {
			out = append(out, span{0, size})
			continue
		}
		a, b, ok := strings.Cut(strings.TrimPrefix(r.Range, "bytes="), "-")
		first, err1 := strconv.ParseInt(a, 10, 64)
		last, err2 := strconv.ParseInt(b, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("Range %q is not bytes=first-last", r.Range)
		}
		out = append(out, span{first, last + 1})
	}
	return out
}

// TestRangesSplitIdleTransfers: a batch of one or two large files is
// fetched in ranges that keep the transfers busy, each range asked with
// If-Range and the file's ETag, the pieces covering the file exactly, and
// never more requests at the service at once than workers.
func TestRangesSplitIdleTransfers(t *testing.T) {
	forProtocols(t, "ranges", func(t *testing.T, p protocol) {
		for _, files := range []int{1, 2} {
			t.Run(strconv.Itoa(files), func(t *testing.T) {
				s := newFakeService(t, p)
				d := rangeTest(t, s, Config{Workers: 4})
				const size = 1<<20 + 777
				var entries []entryData
				for i := range files {
					data := content(size, uint64(40+i))
					name := fmt.Sprintf("f%d.bin", i)
					entries = append(entries, entryData{entry(s.add("/"+name, &fakeFile{data: data}), name), data})
				}
				res := run(t, d, entriesOf(entries)...)
				for i, e := range entries {
					if res[i].Status != Downloaded || res[i].SHA256 != sha(e.data) {
						t.Fatalf("%s: %s %v, sha %s", e.e.Name, res[i].Status, res[i].Err, res[i].SHA256)
					}
					checkFile(t, res[i].Path, e.data)
					reqs := s.seenFor("/" + e.e.Name)
					if want := 4 / files; len(reqs) != want {
						t.Errorf("%s: %d requests, want %d (the first and %d ranges)", e.e.Name, len(reqs), want, want-1)
					}
					for _, r := range reqs[1:] {
						if r.Range == "" || r.IfRange == "" {
							t.Errorf("%s: a range request without Range or If-Range: %+v", e.e.Name, r)
						}
					}
					// The first answer streams the first piece; the others
					// and it cover the file once.
					spans := asked(t, reqs[1:], size)
					slices.SortFunc(spans, func(a, b span) int { return int(a.Start - b.Start) })
					var done []span
					for _, sp := range spans {
						done = addSpan(done, sp)
					}
					if len(done) != 1 || done[0].End != size || done[0].Start != spans[0].Start || spans[0].Start == 0 {
						t.Errorf("%s: ranges asked %v do not cover the rest of the file after a first piece", e.e.Name, spans)
					}
				}
				if n := s.peak.Load(); n > 4 {
					t.Errorf("%d requests at the service at once, with 4 workers", n)
				}
			})
		}
	})
}

type entryData struct {
	e    manifest.Entry
	data []byte
}

func entriesOf(es []entryData) []manifest.Entry {
	var out []manifest.Entry
	for _, e := range es {
		out = append(out, e.e)
	}
	return out
}

// whole counts the requests without Range (from the start of the file).
func whole(reqs []seenRequest) int {
	n := 0
	for _, r := range reqs {
		if r.Range == "" {
			n++
		}
	}
	return n
}

// TestRangesSmallFilesNotSplit: a file under two ranges is one stream, and
// so are large files as many as the workers while they are all in flight.
func TestRangesSmallFilesNotSplit(t *testing.T) {
	s := newFakeService(t)
	d := rangeTest(t, s, Config{Workers: 4})
	small := content(int(2*d.rangeMin-1), 50)
	res := run(t, d, entry(s.add("/small.bin", &fakeFile{data: small}), "small.bin"))
	checkFile(t, res[0].Path, small)
	if reqs := s.seenFor("/small.bin"); len(reqs) != 1 || reqs[0].Range != "" {
		t.Errorf("small file: requests %+v, want one without Range", reqs)
	}

	// The four answers are held after their first bytes until wcdl has
	// decided how to fetch each file: none ends before the others start.
	var holding atomic.Bool
	holding.Store(true)
	release := make(chan struct{})
	var mu sync.Mutex
	var decisions []int
	d.onSplit = func(n int) {
		mu.Lock()
		defer mu.Unlock()
		if decisions = append(decisions, n); len(decisions) == 4 {
			close(release)
		}
	}
	var entries []entryData
	for i := range 4 {
		data := content(1<<20, uint64(60+i))
		name := fmt.Sprintf("big%d.bin", i)
		etag := fmt.Sprintf(`"b%d"`, i)
		f := &fakeFile{data: data, etag: etag, reply: holdAnswers(data, etag, 4<<10, &holding, release)}
		entries = append(entries, entryData{entry(s.add("/"+name, f), name), data})
	}
	res = run(t, d, entriesOf(entries)...)
	// Once they stream, the last ones may be split as others end.
	for i, e := range entries {
		checkFile(t, res[i].Path, e.data)
	}
	if len(decisions) < 4 || !slices.Equal(decisions[:4], []int{1, 1, 1, 1}) {
		t.Errorf("decisions %v, want one stream for each of the four files in flight", decisions)
	}
}

// holdAnswers answers every request for data (a 200, or a 206 for the
// Range asked) with its first hold bytes, then waits for release to be
// closed before it sends the rest, or for the request to end, while
// *holding is set; otherwise it lets the file be served.
func holdAnswers(data []byte, etag string, hold int, holding *atomic.Bool, release <-chan struct{}) func(int, http.ResponseWriter, *http.Request) bool {
	return func(_ int, w http.ResponseWriter, r *http.Request) bool {
		if !holding.Load() {
			return false
		}
		h := w.Header()
		h.Set("ETag", etag)
		h.Set("Accept-Ranges", "bytes")
		first, last := int64(0), int64(len(data)-1)
		code := http.StatusOK
		if v := r.Header.Get("Range"); v != "" {
			a, b, _ := strings.Cut(strings.TrimPrefix(v, "bytes="), "-")
			first, _ = strconv.ParseInt(a, 10, 64)
			last, _ = strconv.ParseInt(b, 10, 64)
			code = http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(data)))
		}
		h.Set("Content-Length", strconv.FormatInt(last-first+1, 10))
		w.WriteHeader(code)
		w.Write(data[first : first+int64(hold)])
		w.(http.Flusher).Flush()
		select {
		case <-release:
			w.Write(data[first+int64(hold) : last+1])
		case <-r.Context().Done():
		}
		return true
	}
}

// TestRangesResumeAcrossRuns: a run cancelled while every range is held
// mid-way keeps what it received; the metadata on disk while the ranges
// ran (what a SIGKILL leaves) and the one written as the run ended both
// let a later run ask only for the missing bytes and end with the file.
func TestRangesResumeAcrossRuns(t *testing.T) {
	forProtocols(t, "resume", func(t *testing.T, p protocol) {
		const size = 1<<20 + 4321
		data := content(size, 70)
		s := newFakeService(t, p)
		var holding atomic.Bool
		holding.Store(true)
		const etag = `"r1"`
		url := s.add("/f.bin", &fakeFile{data: data, etag: etag, reply: holdAnswers(data, etag, 40<<10, &holding, nil)})
		dir := t.TempDir()
		d := rangeTest(t, s, Config{Dir: dir, Workers: 4})
		saves := make(chan []span, 1000)
		d.onRangeSave = func(done []span) { saves <- done }

		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan []Result)
		go func() {
			res, _ := d.Run(ctx, []manifest.Entry{entry(url, "f.bin")})
			ran <- res
		}()
		// Wait until each of the 4 ranges has saved at least 16 KiB.
		var covered int64
		for covered < 4*d.rangeSave {
			done := <-saves
			covered = 0
			for _, sp := range done {
				covered += sp.End - sp.Start
			}
		}
		// What a SIGKILL would leave now: the metadata, then the part.
		killed := t.TempDir()
		part := filepath.Join(dir, "f.bin.part")
		for _, name := range []string{".meta", ""} {
			b, err := os.ReadFile(part + name)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(killed, "f.bin.part"+name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		if res := <-ran; res[0].Status != Interrupted {
			t.Fatalf("cancelled run: %s %v, want interrupted", res[0].Status, res[0].Err)
		}
		holding.Store(false)
		// The held answers to the cancelled run end as the service sees
		// their connections close; bytes they write until then are not
		// the resumed run's.
		s.waitIdle()

		for _, folder := range []struct{ name, dir string }{{"killed", killed}, {"cancelled", dir}} {
			m, err := readMetaPath(filepath.Join(folder.dir, "f.bin.part.meta"))
			if err != nil || len(m.Done) == 0 {
				t.Fatalf("%s: metadata %+v, %v: want complete spans", folder.name, m, err)
			}
			want := missing(m.Done, size)
			before := len(s.seenFor("/f.bin"))
			sent := s.sent.Load()
			d2 := rangeTest(t, s, Config{Dir: folder.dir, Workers: 4})
			res := run(t, d2, entry(url, "f.bin"))
			if res[0].Status != Downloaded {
				t.Fatalf("%s: resumed run: %s %v", folder.name, res[0].Status, res[0].Err)
			}
			checkFile(t, res[0].Path, data)
			var got []span
			for _, sp := range asked(t, s.seenFor("/f.bin")[before:], size) {
				got = addSpan(got, sp)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: the resumed run asked for %v, want the missing %v", folder.name, got, want)
			}
			var left int64
			for _, sp := range want {
				left += sp.End - sp.Start
			}
			if n := s.sent.Load() - sent; n != left {
				t.Errorf("%s: the service sent %d bytes to the resumed run, want the %d missing", folder.name, n, left)
			}
			for _, r := range s.seenFor("/f.bin")[before:] {
				if r.IfRange != etag {
					t.Errorf("%s: resumed range without If-Range %s: %+v", folder.name, etag, r)
				}
			}
		}
		if n := s.peak.Load(); n > 4 {
			t.Errorf("%d requests at the service at once, with 4 workers", n)
		}
	})
}

// TestRangesVersionChanges: the file changes while its ranges are asked
// for; the answers of the new version (200 to If-Range) start the file
// over, and it ends as the new version, never a splice.
func TestRangesVersionChanges(t *testing.T) {
	forProtocols(t, "changed", func(t *testing.T, p protocol) {
		const size = 1<<20 + 99
		old, cur := content(size, 80), content(size, 81)
		s := newFakeService(t, p)
		var once sync.Once
		url := s.add("/f.bin", &fakeFile{data: old, etag: `"old"`, reply: func(_ int, _ http.ResponseWriter, r *http.Request) bool {
			if r.Header.Get("Range") != "" {
				once.Do(func() { s.set("/f.bin", cur, `"new"`) })
			}
			return false
		}})
		d := rangeTest(t, s, Config{Workers: 4})
		res := run(t, d, entry(url, "f.bin"))
		if res[0].Status != Downloaded {
			t.Fatalf("%s %v", res[0].Status, res[0].Err)
		}
		checkFile(t, res[0].Path, cur)
		oldAsked := slices.ContainsFunc(s.seenFor("/f.bin"), func(r seenRequest) bool { return r.IfRange == `"old"` })
		if !oldAsked || whole(s.seenFor("/f.bin")) != 2 {
			t.Errorf("want ranges of the old version, then a request from the start: %+v", s.seenFor("/f.bin"))
		}
	})
}

// TestRangesIgnored: a service that announces ranges but answers a range
// request with the whole file gets one stream after a restart; one that
// does not announce them gets one stream from the start.
func TestRangesIgnored(t *testing.T) {
	const size = 1<<20 + 5
	data := content(size, 90)
	s := newFakeService(t)
	d := rangeTest(t, s, Config{Workers: 4})
	res := run(t, d, entry(s.add("/ignores.bin", &fakeFile{data: data, noRange: true}), "ignores.bin"))
	if res[0].Status != Downloaded {
		t.Fatalf("%s %v", res[0].Status, res[0].Err)
	}
	checkFile(t, res[0].Path, data)
	reqs := s.seenFor("/ignores.bin")
	if whole(reqs) != 2 || len(reqs) < 3 {
		t.Errorf("want ranges, then one stream without Range: %+v", reqs)
	}

	plain := func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("ETag", `"p"`)
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Write(data)
		return true
	}
	res = run(t, d, entry(s.add("/plain.bin", &fakeFile{data: data, reply: plain}), "plain.bin"))
	checkFile(t, res[0].Path, data)
	if reqs := s.seenFor("/plain.bin"); len(reqs) != 1 || reqs[0].Range != "" {
		t.Errorf("without Accept-Ranges: requests %+v, want one stream", reqs)
	}
}

// TestRangesWrongRange: a 206 for another range than asked, and a 206 for
// the range asked but of another version, are refused; the file starts
// over and ends whole.
func TestRangesWrongRange(t *testing.T) {
	forProtocols(t, "wrong", func(t *testing.T, p protocol) {
		for _, other := range []bool{false, true} {
			t.Run(map[bool]string{false: "range", true: "version"}[other], func(t *testing.T) { wrongRange(t, p, other) })
		}
	})
}

// wrongRange answers the first range request of a file with the bytes one
// before those asked, or, if otherVersion, with the range asked of another
// version.
func wrongRange(t *testing.T, p protocol, otherVersion bool) {
	const size = 1<<20 + 17
	data := content(size, 100)
	s := newFakeService(t, p)
	var wrong atomic.Bool
	url := s.add("/f.bin", &fakeFile{data: data, etag: `"w"`, reply: func(_ int, w http.ResponseWriter, r *http.Request) bool {
		v := r.Header.Get("Range")
		if v == "" || !wrong.CompareAndSwap(false, true) {
			return false
		}
		a, b, _ := strings.Cut(strings.TrimPrefix(v, "bytes="), "-")
		first, _ := strconv.ParseInt(a, 10, 64)
		last, _ := strconv.ParseInt(b, 10, 64)
		body, etag := data, `"w"`
		if otherVersion {
			body, etag = content(size, 101), `"w2"`
		} else {
			first, last = first-1, last-1 // one byte early
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, size))
		w.Header().Set("Content-Length", strconv.FormatInt(last-first+1, 10))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(body[first : last+1])
		return true
	}})
	d := rangeTest(t, s, Config{Workers: 4})
	res := run(t, d, entry(url, "f.bin"))
	if res[0].Status != Downloaded {
		t.Fatalf("%s %v", res[0].Status, res[0].Err)
	}
	checkFile(t, res[0].Path, data)
	reqs := s.seenFor("/f.bin")
	if !wrong.Load() || whole(reqs) != 2 {
		t.Errorf("want a wrong 206, then the file from the start: %+v", reqs)
	}
}

// TestSpans checks the span arithmetic of the resume metadata.
func TestSpans(t *testing.T) {
	var done []span
	for _, s := range []span{{10, 20}, {30, 40}, {0, 5}, {20, 25}, {5, 10}} {
		done = addSpan(done, s)
	}
	if want := []span{{0, 25}, {30, 40}}; !slices.Equal(done, want) {
		t.Errorf("addSpan: %v, want %v", done, want)
	}
	if got, want := missing(done, 50), []span{{25, 30}, {40, 50}}; !slices.Equal(got, want) {
		t.Errorf("missing: %v, want %v", got, want)
	}
	if got, want := cut([]span{{0, 100}}, 4, 10), []span{{0, 25}, {25, 50}, {50, 75}, {75, 100}}; !slices.Equal(got, want) {
		t.Errorf("cut: %v, want %v", got, want)
	}
	if got, want := cut([]span{{0, 100}}, 8, 30), []span{{0, 34}, {34, 68}, {68, 100}}; !slices.Equal(got, want) {
		t.Errorf("cut with a least length: %v, want %v", got, want)
	}
}

// TestRangesMetaRefusedByOlderReaders: the metadata of a part fetched in
// ranges does not carry url_sha256, which every wcdl before ranges
// requires, so that none of them resumes from the part's length across
// spans never received; this wcdl reads both forms.
func TestRangesMetaRefusedByOlderReaders(t *testing.T) {
	dir := t.TempDir()
	split := partMeta{URLDigest: "ab", ETag: `"v"`, Size: 10, Done: []span{{0, 4}}}
	one := partMeta{URLDigest: "ab", ETag: `"v"`, Size: 10}
	for _, m := range []partMeta{split, one} {
		p := filepath.Join(dir, fmt.Sprint(len(m.Done)))
		if err := writeMetaPath(p, m); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		if has := strings.Contains(string(b), `"url_sha256"`); has == (len(m.Done) > 0) {
			t.Errorf("metadata %s: url_sha256 present %v", b, has)
		}
		// What a wcdl before ranges decodes (its partMeta had no Done).
		var old struct {
			URLDigest string `json:"url_sha256"`
		}
		json.Unmarshal(b, &old)
		if (old.URLDigest == "") != (len(m.Done) > 0) {
			t.Errorf("metadata %s: an older reader sees url_sha256 %q", b, old.URLDigest)
		}
		if got, err := readMetaPath(p); err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("readMetaPath(%s) = %+v, %v; want %+v", b, got, err, m)
		}
	}
}

// TestRangesSplitMidStream: a large file that started as one stream beside
// another file is split once that file ends: the transfer it leaves idle
// fetches the second half of what remains.
func TestRangesSplitMidStream(t *testing.T) {
	forProtocols(t, "tail", func(t *testing.T, p protocol) {
		s := newFakeService(t, p)
		smallDone, bigDecided := make(chan struct{}), make(chan struct{})
		cfg := Config{Workers: 2, OnResult: func(r Result) {
			if r.Entry.Name == "small.bin" {
				close(smallDone)
			}
		}}
		d := rangeTest(t, s, cfg)
		var mu sync.Mutex
		var decisions []int
		var split atomic.Bool
		d.onSplit = func(n int) { // only the big file can be split
			mu.Lock()
			defer mu.Unlock()
			if decisions = append(decisions, n); len(decisions) == 1 {
				close(bigDecided)
			}
			split.Store(split.Load() || n > 1)
		}
		// Once split, no byte is written before the metadata on disk
		// describes the part as ranges (a crash would otherwise resume
		// from the part's length).
		var unsaved atomic.Int64
		meta := filepath.Join(d.cfg.Dir, "big.bin.part.meta")
		d.failWrite = func() error {
			if split.Load() {
				if m, err := readMetaPath(meta); err != nil || m.Done == nil {
					unsaved.Add(1)
				}
			}
			return nil
		}
		small := content(100<<10, 110)
		big := content(1<<20+3, 111)
		var holding atomic.Bool
		holding.Store(true)
		bigURL := s.add("/big.bin", &fakeFile{data: big, etag: `"big"`, reply: holdAnswers(big, `"big"`, 4<<10, &holding, smallDone)})
		// The small file is answered once the big one has chosen one stream.
		smallURL := s.add("/small.bin", &fakeFile{data: small, reply: func(int, http.ResponseWriter, *http.Request) bool {
			<-bigDecided
			return false
		}})
		res := run(t, d, entry(bigURL, "big.bin"), entry(smallURL, "small.bin"))
		checkFile(t, res[0].Path, big)
		checkFile(t, res[1].Path, small)
		if len(decisions) < 2 || decisions[0] != 1 || decisions[len(decisions)-1] != 2 {
			t.Errorf("decisions %v: want one stream, then two ranges", decisions)
		}
		reqs := s.seenFor("/big.bin")
		if len(reqs) != 2 || reqs[0].Range != "" || reqs[1].Range == "" || reqs[1].IfRange != `"big"` {
			t.Errorf("big file: requests %+v, want the first and one range with If-Range", reqs)
		}
		if sp := asked(t, reqs[1:], int64(len(big))); len(sp) != 1 || sp[0].End != int64(len(big)) {
			t.Errorf("the range asked %v does not end the file", sp)
		}
		if n := s.peak.Load(); n > 2 {
			t.Errorf("%d requests at the service at once, with 2 workers", n)
		}
		if n := unsaved.Load(); n > 0 {
			t.Errorf("%d writes after the split without ranges in the metadata", n)
		}
	})
}
