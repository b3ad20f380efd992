// Package s3out_test runs wcdl, built as a process, with -o s3:// into a
// real S3 server on loopback (versitygw), downloading from the fake
// download service.
package s3out_test

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// Exit codes of wcdl (README: Output and exit codes).
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// TestBucketRunAndRerun: a clean run leaves exactly the objects of the
// batch, each whole with its SHA-256, no upload open and no state object;
// a rerun skips every object with one HEAD: no GET to the download
// service, no write to the bucket.
func TestBucketRunAndRerun(t *testing.T) {
	const size = 6 << 20 // two parts of 5 MiB: a multipart upload
	for _, tt := range []struct {
		name string
		size int64
	}{
		{name: "multipart", size: size},
		{name: "within one part", size: 1 << 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, terrascopetest.WithFileSize(tt.size))
			m, names := writeManifest(t, 4, "")
			rep := filepath.Join(t.TempDir(), "r.json")
			res := wcdl.Run(context.Background(), t, r.env(), r.args(m, "--report", rep)...)
			if res.Code != exitOK {
				t.Fatalf("exit %d, want %d\n%s", res.Code, exitOK, res.Stderr)
			}
			r.checkObjects(t, names, tt.size)

			gets, writes := r.ts.Stats().Requests, r.writes.Load()
			res = wcdl.Run(context.Background(), t, r.env(), r.args(m, "--report", rep)...)
			if res.Code != exitOK {
				t.Fatalf("rerun: exit %d, want %d\n%s", res.Code, exitOK, res.Stderr)
			}
			if got := readReport(t, rep).Summary.Skipped; got != len(names) {
				t.Errorf("rerun skipped %d, want %d", got, len(names))
			}
			if n := r.ts.Stats().Requests - gets; n != 0 {
				t.Errorf("rerun: %d requests to the download service, want 0", n)
			}
			if n := r.writes.Load() - writes; n != 0 {
				t.Errorf("rerun: %d writes to the bucket, want 0", n)
			}
			r.checkObjects(t, names, tt.size)
		})
	}
}

// TestBucketFailedCheck: a file that fails its check (a wrong sha256= in
// the manifest) is never at its final key, and its upload is aborted; the
// others are published.
func TestBucketFailedCheck(t *testing.T) {
	const size = 6 << 20
	r := newRig(t, terrascopetest.WithFileSize(size))
	m, names := writeManifest(t, 3, "sha256="+strings.Repeat("0", 64))
	rep := filepath.Join(t.TempDir(), "r.json")
	res := wcdl.Run(context.Background(), t, r.env(), r.args(m, "--report", rep, "--retries", "1")...)
	if res.Code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s", res.Code, exitFailed, res.Stderr)
	}
	r.checkObjects(t, names[1:], size)
	got := readReport(t, rep)
	if got.Summary.Failed != 1 {
		t.Errorf("failed %d, want 1", got.Summary.Failed)
	}
	if got.UploadsAborted != 1 {
		t.Errorf("report counts %d uploads aborted, want 1 (the failed file's)", got.UploadsAborted)
	}
}

// TestBucketRefused: wrong credentials, a missing bucket or requests
// signed for another region exit 2 before any login and any download,
// each named.
func TestBucketRefused(t *testing.T) {
	r := newRig(t, terrascopetest.WithFileSize(1<<20))
	m, _ := writeManifest(t, 2, "")
	for _, tt := range []struct {
		name    string
		env     map[string]string
		out     string
		wantErr string
	}{
		{name: "wrong secret", env: map[string]string{"AWS_SECRET_ACCESS_KEY": "not-the-secret"}, out: "s3://" + bucketName + "/x", wantErr: "refused the credentials"},
		{name: "missing bucket", out: "s3://no-such-bucket/x", wantErr: "does not exist"},
		{name: "wrong region", env: map[string]string{"AWS_REGION": "eu-west-1"}, out: "s3://" + bucketName + "/x", wantErr: "another region than the requests are signed for"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := r.env()
			for k, v := range tt.env {
				env[k] = v
			}
			logins := r.kc.Stats().TokenRequests()
			gets := r.ts.Stats().Requests
			res := wcdl.Run(context.Background(), t, env, append(r.args(m), "-o", tt.out)...)
			if res.Code != exitUsage {
				t.Fatalf("exit %d, want %d\n%s", res.Code, exitUsage, res.Stderr)
			}
			if !strings.Contains(res.Stderr, tt.wantErr) {
				t.Errorf("stderr %q does not say %q", res.Stderr, tt.wantErr)
			}
			if strings.Contains(res.Stderr, "not-the-secret") {
				t.Errorf("stderr shows the secret: %q", res.Stderr)
			}
			if n := r.kc.Stats().TokenRequests() - logins; n != 0 {
				t.Errorf("%d token requests, want 0", n)
			}
			if n := r.ts.Stats().Requests - gets; n != 0 {
				t.Errorf("%d requests to the download service, want 0", n)
			}
		})
	}
}

// TestBucketKilled: a run killed with SIGKILL mid-file three times, each
// time with parts of two files uploaded, and run again, ends with exactly
// the objects of the batch, no upload open, and at most 1.3 times the
// batch's bytes received in all.
func TestBucketKilled(t *testing.T) {
	const (
		size  = 16 << 20
		files = 8
	)
	r := newRig(t, terrascopetest.WithFileSize(size))
	m, names := writeManifest(t, files, "")
	args := r.args(m, "--s3-lock-ttl", "3s")
	for kill := range 3 {
		// Every body pauses after 11 MiB: two parts of 5 MiB are
		// uploaded, 1 MiB is buffered when the run is killed.
		r.ts.Hold(11 << 20)
		held := r.ts.Stats().Held
		cmd, stderr := r.start(t, nil, args...)
		wait(t, r.ts.WaitFor(func(s terrascopetest.Stats) bool { return s.Held >= held+2 }), "two bodies paused")
		r.waitParts(t, 4)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		r.ts.Release()
		if n := r.openUploads(t); n != 2 {
			t.Fatalf("kill %d: %d uploads open, want 2\n%s", kill+1, n, stderr)
		}
	}
	res := wcdl.Run(context.Background(), t, r.env(), args...)
	if res.Code != exitOK {
		t.Fatalf("exit %d, want %d\n%s", res.Code, exitOK, res.Stderr)
	}
	r.checkObjects(t, names, size)
	served, batch := r.ts.Stats().BytesServed, int64(files*size)
	t.Logf("bytes served %d for a batch of %d (%.2fx)", served, batch, float64(served)/float64(batch))
	if served > batch*13/10 {
		t.Errorf("bytes served %d, more than 1.3 times the batch's %d", served, batch)
	}
	if keys := r.objects(t); len(keys) != files {
		t.Errorf("%d objects, want %d (no state object left)", len(keys), files)
	}
}

// TestBucketRestart: the S3 server restarted while parts are being
// uploaded; the run goes on and ends with exactly the objects of the
// batch.
func TestBucketRestart(t *testing.T) {
	const size = 12 << 20
	r := newRig(t, terrascopetest.WithFileSize(size))
	m, names := writeManifest(t, 4, "")
	r.ts.Hold(7 << 20)
	cmd, stderr := r.start(t, nil, r.args(m)...)
	wait(t, r.ts.WaitFor(func(s terrascopetest.Stats) bool { return s.Held >= 2 }), "two bodies paused")
	r.waitParts(t, 2)
	r.s3.Restart(t)
	r.ts.Release()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("wcdl: %v\n%s", err, stderr)
	}
	r.checkObjects(t, names, size)
}

// TestBucketNewVersion: a run killed mid-file leaves its uploads open; the
// source then serves a new version of those files, and the next run
// aborts the uploads (counted in the report) and publishes the new
// versions, whole, with none left open.
func TestBucketNewVersion(t *testing.T) {
	const size = 12 << 20
	r := newRig(t, terrascopetest.WithFileSize(size))
	m, names := writeManifest(t, 2, "")
	args := r.args(m, "--s3-lock-ttl", "3s")
	r.ts.Hold(6 << 20)
	cmd, stderr := r.start(t, nil, args...)
	wait(t, r.ts.WaitFor(func(s terrascopetest.Stats) bool { return s.Held >= 2 }), "two bodies paused")
	r.waitParts(t, 2)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	r.ts.Release()
	if n := r.openUploads(t); n != 2 {
		t.Fatalf("%d uploads open after the kill, want 2\n%s", n, stderr)
	}
	for _, n := range names {
		r.ts.Bump(srcPath(n))
	}
	rep := filepath.Join(t.TempDir(), "r.json")
	res := wcdl.Run(context.Background(), t, r.env(), append(args, "--report", rep)...)
	if res.Code != exitOK {
		t.Fatalf("exit %d, want %d\n%s", res.Code, exitOK, res.Stderr)
	}
	r.checkObjects(t, names, size)
	for _, n := range names {
		if got, want := r.objectSHA(t, prefix+n), r.ts.SHA256(srcPath(n)); got != want {
			t.Errorf("%s: SHA-256 %s, want the new version's %s", n, got, want)
		}
	}
	if got := readReport(t, rep).UploadsAborted; got != 2 {
		t.Errorf("report counts %d uploads aborted, want 2", got)
	}
}

// srcPath is where the download service serves the tile named name.
func srcPath(name string) string {
	return "WORLDCOVER/ESA_WORLDCOVER_10M_2021_V200/MAP/" + strings.TrimSuffix(name, ".tif") + "/" + name
}

// TestBucketForceInterrupted: a --force run interrupted (SIGINT) while it
// replaces complete objects leaves its uploads open behind them; the next
// run, without --force, must not skip those objects and leave the uploads
// open: it finishes the replacements, and ends with exactly the objects
// of the batch, whole, no upload open and no state object.
func TestBucketForceInterrupted(t *testing.T) {
	const size = 12 << 20
	r := newRig(t, terrascopetest.WithFileSize(size))
	m, names := writeManifest(t, 2, "")
	if res := wcdl.Run(context.Background(), t, r.env(), r.args(m)...); res.Code != exitOK {
		t.Fatalf("first run: exit %d, want %d\n%s", res.Code, exitOK, res.Stderr)
	}
	r.ts.Hold(6 << 20)
	held := r.ts.Stats().Held
	cmd, stderr := r.start(t, nil, r.args(m, "--force")...)
	wait(t, r.ts.WaitFor(func(s terrascopetest.Stats) bool { return s.Held >= held+2 }), "two bodies paused")
	// A part the bucket lists may still be in flight: wait until each
	// file's state records one, so that the interrupt leaves the upload
	// resumable.
	for _, n := range names {
		r.waitStateParts(t, prefix+n+".part", 1)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	r.ts.Release()
	if n := r.openUploads(t); n != 2 {
		t.Fatalf("%d uploads open after the interrupt, want 2\n%s", n, stderr)
	}
	res := wcdl.Run(context.Background(), t, r.env(), r.args(m)...)
	if res.Code != exitOK {
		t.Fatalf("rerun: exit %d, want %d\n%s", res.Code, exitOK, res.Stderr)
	}
	r.checkObjects(t, names, size)
}
