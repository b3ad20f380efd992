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
)

// TestLockAcrossProcesses holds a file's lock in a child process (this test
// binary, re-run as a helper) and checks that this process cannot take it
// until the child lets go.
func TestLockAcrossProcesses(t *testing.T) {
	if path := os.Getenv("WCDL_TEST_LOCK_HOLDER"); path != "" {
		holdLock(path)
		return
	}
	path := filepath.Join(t.TempDir(), "f.bin.lock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockAcrossProcesses$")
	cmd.Env = append(os.Environ(), "WCDL_TEST_LOCK_HOLDER="+path)
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
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper said %q, %v; want locked", line, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if l, err := lockFile(ctx, path); !errors.Is(err, context.Canceled) {
		if l != nil {
			l.unlock()
		}
		t.Fatalf("lock held by another process: got %v, want to wait (context.Canceled)", err)
	}
	stdin.Close() // the helper unlocks and exits
	go io.Copy(io.Discard, stdout)
	l, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatalf("lock after the other process let go: %v", err)
	}
	l.unlock()
	if err := cmd.Wait(); err != nil {
		t.Errorf("helper: %v", err)
	}
}

// holdLock takes the lock at path, says so, and holds it until stdin closes.
func holdLock(path string) {
	l, err := lockFile(context.Background(), path)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	l.unlock()
}
