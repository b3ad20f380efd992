//go:build unix

package downloader

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// TestRangesResumeAfterSIGKILL fetches a file in ranges in a child process
// (this test binary, re-run as a helper) while the service holds every
// range mid-way, kills it with SIGKILL once each range has saved some
// progress, and checks that a run in this process asks only for the
// bytes the metadata left on disk does not list, and ends with the file.
func TestRangesResumeAfterSIGKILL(t *testing.T) {
	if v := os.Getenv("WCDL_TEST_RANGES_CHILD"); v != "" {
		dir, url, _ := strings.Cut(v, "|")
		rangesChild(dir, url)
		return
	}
	const size = 1<<20 + 4321
	const etag = `"k1"`
	data := content(size, 120)
	s := newFakeService(t)
	var holding atomic.Bool
	holding.Store(true)
	url := s.add("/f.bin", &fakeFile{data: data, etag: etag, reply: holdAnswers(data, etag, 40<<10, &holding, nil)})
	dir := t.TempDir()

	cmd := exec.Command(os.Args[0], "-test.run=^TestRangesResumeAfterSIGKILL$")
	cmd.Env = append(os.Environ(), "WCDL_TEST_RANGES_CHILD="+dir+"|"+url)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "saved\n" {
		t.Fatalf("helper said %q, %v; want saved", line, err)
	}
	go io.Copy(io.Discard, stdout)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	holding.Store(false)
	s.waitIdle() // the killed process's answers end as their connections close

	m, err := readMetaPath(filepath.Join(dir, "f.bin.part.meta"))
	if err != nil || len(m.Done) == 0 {
		t.Fatalf("metadata left by the killed process: %+v, %v; want complete spans", m, err)
	}
	want := missing(m.Done, size)
	before := len(s.seenFor("/f.bin"))
	sent := s.sent.Load()
	d := rangeTest(t, s, Config{Dir: dir, Workers: 4})
	res := run(t, d, entry(url, "f.bin"))
	if res[0].Status != Downloaded {
		t.Fatalf("resumed run: %s %v", res[0].Status, res[0].Err)
	}
	checkFile(t, res[0].Path, data)
	var got []span
	for _, sp := range asked(t, s.seenFor("/f.bin")[before:], size) {
		got = addSpan(got, sp)
	}
	if !slices.Equal(got, want) {
		t.Errorf("the resumed run asked for %v, want the missing %v", got, want)
	}
	var left int64
	for _, sp := range want {
		left += sp.End - sp.Start
	}
	if n := s.sent.Load() - sent; n != left {
		t.Errorf("the service sent %d bytes to the resumed run, want the %d missing", n, left)
	}
}

// rangesChild fetches url into dir in 4 ranges and prints "saved" once
// the metadata on disk lists 16 KiB of each; then it waits to be killed.
func rangesChild(dir, url string) {
	d, err := New(Config{Dir: dir, Workers: 4})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	d.rangeMin, d.rangeSave = 128<<10, 16<<10
	var said atomic.Bool
	d.onRangeSave = func(done []span) {
		var covered int64
		for _, sp := range done {
			covered += sp.End - sp.Start
		}
		if covered >= 4*d.rangeSave && !said.Swap(true) {
			fmt.Println("saved")
		}
	}
	d.Run(context.Background(), []manifest.Entry{entry(url, "f.bin")})
	fmt.Println("error: the run ended")
	os.Exit(1)
}
