package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// TestPromptCtrlC runs wcdl on a pseudo-terminal with no password anywhere
// but the prompt, and types Ctrl-C at the prompt: wcdl must end at once
// with 130, leave the terminal's echo on, ask the identity provider for
// nothing and leave no output folder.
func TestPromptCtrlC(t *testing.T) {
	bin := chaosBinary(t) // skips under -short, builds once
	f := newChaosFakes(t, nil, terrascopetest.WithFileSize(1<<10))
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	m := writeChaosManifest(t, dir, "tiles.txt", chaosNames(2, 0))

	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptm.Close()
	defer tty.Close()
	cmd := exec.Command(bin, f.args("-m", m, "-o", out)...)
	cmd.Env = append(chaosBaseEnv(), "WCDL_USERNAME="+chaosUser)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	// A session of its own with the terminal as its controlling terminal,
	// so that Ctrl-C on the terminal signals wcdl, as in a shell.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	})

	// Read what wcdl writes to the terminal until the prompt shows.
	screen := &syncBuffer{}
	prompted := screen.notifyOn("Password for " + chaosUser)
	go func() {
		r := bufio.NewReader(ptm)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			screen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	select {
	case <-prompted:
	case err := <-exited:
		t.Fatalf("wcdl exited (%v) before prompting; terminal:\n%s", err, screen.String())
	case <-ctx.Done():
		t.Fatalf("no prompt; terminal:\n%s", screen.String())
	}
	// The prompt is printed before echo goes off: wait for the terminal
	// to stop echoing, so that Ctrl-C lands while the password is read.
	if !waitTermios(ctx, tty, func(tio *unix.Termios) bool { return tio.Lflag&unix.ECHO == 0 }) {
		t.Fatalf("echo never went off at the prompt")
	}
	said := screen.notifyOn("wcdl: interrupted")       // one waiter at a time
	if _, err := ptm.Write([]byte{0x03}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
			t.Fatalf("wcdl ended with %v, want exit code %d; terminal:\n%s", err, exitInterrupted, screen.String())
		}
	case <-ctx.Done():
		t.Fatalf("wcdl did not end after Ctrl-C at the prompt; terminal:\n%s", screen.String())
	}
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&unix.ECHO == 0 {
		t.Errorf("the terminal's echo is still off after wcdl ended")
	}
	if st := f.kc.Stats(); st.Received != 0 {
		t.Errorf("keycloak got %d token requests, want 0", st.Received)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output folder after Ctrl-C at the prompt: %v, want none", err)
	}
	// What wcdl wrote before it exited is still on its way through the
	// terminal to the reader.
	select {
	case <-said:
	case <-ctx.Done():
		t.Errorf("the terminal does not say the run was interrupted:\n%s", screen.String())
	}
}

// waitTermios waits until cond holds for the terminal's settings or ctx
// ends. Another process changes them, so it looks every few milliseconds.
func waitTermios(ctx context.Context, tty *os.File, cond func(*unix.Termios) bool) bool {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS); err == nil && cond(tio) {
			return true
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return false
		}
	}
}
