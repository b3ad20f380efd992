//go:build unix

package auth

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTokenFileNotRegular: a named pipe nobody writes to, a device (such
// as /dev/zero, which never ends), or a file far larger than any token at
// --token-file is refused at once, naming the path, instead of hanging the
// run or filling its memory; a token that was read stays in use when a
// rotation puts such a thing at the path.
func TestTokenFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	huge := filepath.Join(dir, "huge")
	if err := os.WriteFile(huge, bytes.Repeat([]byte("a"), 64<<10+1), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"named pipe", fifo, "a named pipe"},
		{"device", "/dev/null", "a device"},
		{"directory", dir, "a directory"},
		{"larger than a token", huge, "more than 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat(tt.path); err != nil {
				t.Skip(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := NewTokenFile(tt.path, nil)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second): // a guard against a hang, not a wait
				t.Fatal("NewTokenFile still reading after 10s")
			}
			if err == nil || !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %s and %q", err, tt.path, tt.want)
			}
		})
	}

	t.Run("rotated to a named pipe", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "token")
		writeToken(t, path, "token-A")
		f, err := NewTokenFile(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
		done := make(chan string, 1)
		go func() {
			tok, _ := f.Token(t.Context())
			done <- tok
		}()
		select {
		case tok := <-done:
			if tok != "token-A" {
				t.Errorf("token %q, want the last one read, token-A", tok)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Token still reading after 10s")
		}
	})
}
