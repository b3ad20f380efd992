//go:build unix

package downloader

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/manifest"
)

// TestLockWaitSaysSo holds a part's lock as another process would (flock
// on another descriptor), checks that the waiting Downloader logs once, at
// info level, which file it waits for, and that cancelling ends the wait.
func TestLockWaitSaysSo(t *testing.T) {
	s := newFakeService(t)
	u := s.add("/f.bin", &fakeFile{data: content(1000, 15)})
	dir := t.TempDir()
	part := filepath.Join(dir, "f.bin.part")
	held, _, err := lockPartPath(t.Context(), part, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.unlock(false)

	var logs lockedBuffer
	d := newTest(t, Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	busy := make(chan struct{}, 8)
	d.lockBusy = func() {
		select {
		case busy <- struct{}{}:
		default:
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan []Result, 1)
	go func() {
		res, _ := d.Run(ctx, []manifest.Entry{entry(u, "f.bin")})
		done <- res
	}()
	<-busy
	<-busy // found busy twice: the message must still be there once
	cancel()
	res := <-done
	if res[0].Status != Interrupted {
		t.Errorf("Status %s, Err %v; want interrupted", res[0].Status, res[0].Err)
	}
	out := logs.String()
	final := filepath.Join(dir, "f.bin")
	if n := strings.Count(out, "another wcdl process"); n != 1 || !strings.Contains(out, "level=INFO") || !strings.Contains(out, "file="+final+"\n") {
		t.Errorf("log has the wait message %d times, want once at info naming %s:\n%s", n, final, out)
	}
	if n := len(s.seenFor("/f.bin")); n != 0 {
		t.Errorf("%d requests while another process held the file, want 0", n)
	}
}
