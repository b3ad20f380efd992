//go:build unix

package downloader

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// TestLockAcrossProcesses holds a part's lock in a child process (this test
// binary, re-run as a helper) that writes the file meanwhile, and checks
// that a Downloader in this process waits for it instead of writing the
// same file, then finds the file published by the child and skips it
// without a request.
func TestLockAcrossProcesses(t *testing.T) {
	if dir := os.Getenv("WCDL_TEST_LOCK_HOLDER"); dir != "" {
		holdLock(dir)
		return
	}
	data := content(64<<10, 90)
	s := newFakeService(t)
	e := entry(s.add("/f.bin", &fakeFile{data: data}), "f.bin")
	dir := t.TempDir()
	part := filepath.Join(dir, "f.bin.part")

	cmd := exec.Command(os.Args[0], "-test.run=^TestLockAcrossProcesses$")
	cmd.Env = append(os.Environ(), "WCDL_TEST_LOCK_HOLDER="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper said %q, %v; want locked", line, err)
	}
	go io.Copy(io.Discard, stdout)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if l, _, err := lockPartPath(ctx, part, nil); !errors.Is(err, context.Canceled) {
		if l != nil {
			l.unlock(false)
		}
		t.Fatalf("lock held by another process: got %v, want to wait (context.Canceled)", err)
	}

	busy := make(chan struct{}, 1)
	d := newTest(t, Config{Dir: dir})
	d.lockBusy = func() {
		select {
		case busy <- struct{}{}:
		default:
		}
	}
	got := make(chan []Result, 1)
	go func() {
		res, err := d.Run(context.Background(), []manifest.Entry{e})
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		got <- res
	}()
	var res []Result
	select {
	case <-busy: // the Downloader found the part locked and waits
	case res = <-got:
		t.Fatalf("Run ended (%+v) while the other process held the lock, want it to wait", res)
	}
	stdin.Close() // the helper publishes the file, unlocks and exits
	res = <-got
	if err := cmd.Wait(); err != nil {
		t.Errorf("helper: %v", err)
	}
	if len(res) != 1 || res[0].Status != Skipped {
		t.Fatalf("results %+v, want the file skipped (published by the other process)", res)
	}
	if n := len(s.seenFor("/f.bin")); n != 0 {
		t.Errorf("requests = %d, want 0: the file was being written by another process", n)
	}
	checkFile(t, filepath.Join(dir, "f.bin"), data)
}

// holdLock locks dir/f.bin.part, writes the file's content into it, says
// so, and when stdin closes publishes it as dir/f.bin and unlocks, as a
// Downloader of another process would.
func holdLock(dir string) {
	part := filepath.Join(dir, "f.bin.part")
	l, _, err := lockPartPath(context.Background(), part, nil)
	if err == nil {
		err = os.WriteFile(part, content(64<<10, 90), 0o644)
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	if err := os.Rename(part, filepath.Join(dir, "f.bin")); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	l.unlock(false)
}
