package s3out_test

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// TestBucketTwoRunsOfOneShard: two runs of the same plan at once (a Job's
// retry overlapping the pod it replaces) write every object once: the
// second waits on the locks of the files the first is writing, then
// skips them.
func TestBucketTwoRunsOfOneShard(t *testing.T) {
	const size = 6 << 20
	r := newRig(t, terrascopetest.WithFileSize(size))
	m, names := writeManifest(t, 2, "")
	repA, repB := filepath.Join(t.TempDir(), "a.json"), filepath.Join(t.TempDir(), "b.json")
	r.ts.Hold(1 << 20)
	a, errA := r.start(t, nil, r.args(m, "--report", repA)...)
	wait(t, r.ts.WaitFor(func(s terrascopetest.Stats) bool { return s.Held >= 2 }), "two bodies paused")
	gets := r.ts.Stats().Requests
	b, errB := r.start(t, nil, r.args(m, "--report", repB)...)
	r.waitRefused(t, 2) // b found both files locked
	r.ts.Release()
	if err := a.Wait(); err != nil {
		t.Fatalf("first run: %v\n%s", err, errA)
	}
	if err := b.Wait(); err != nil {
		t.Fatalf("second run: %v\n%s", err, errB)
	}
	if n := r.ts.Stats().Requests - gets; n != 0 {
		t.Errorf("the second run made %d requests to the download service, want 0", n)
	}
	ra, rb := readReport(t, repA), readReport(t, repB)
	if ra.Summary.Downloaded != len(names) || rb.Summary.Skipped != len(names) {
		t.Errorf("first run downloaded %d, second skipped %d; want %d and %d", ra.Summary.Downloaded, rb.Summary.Skipped, len(names), len(names))
	}
	r.checkObjects(t, names, size)
}

// TestBucketIndexedJob runs what a Kubernetes Indexed Job does: three
// processes with JOB_COMPLETION_INDEX 0, 1, 2 and --shard auto write into
// one bucket; one is killed with SIGKILL mid-file and started again, as
// the Job restarts its pod. Every object is there once, complete, and no
// upload is left open.
func TestBucketIndexedJob(t *testing.T) {
	const (
		size   = 6 << 20
		shards = 3
	)
	r := newRig(t, terrascopetest.WithFileSize(size))
	m, names := writeManifest(t, 9, "")
	args := r.args(m, "--shard", "auto", "--shard-count", fmt.Sprint(shards), "--s3-lock-ttl", "3s")
	index := func(k int) map[string]string { return map[string]string{"JOB_COMPLETION_INDEX": fmt.Sprint(k)} }

	// Shard 1 is killed once two parts of its files are in the bucket.
	r.ts.Hold(5<<20 + 1<<19)
	victim, _ := r.start(t, index(1), args...)
	wait(t, r.ts.WaitFor(func(s terrascopetest.Stats) bool { return s.Held >= 2 }), "two bodies paused")
	r.waitParts(t, 2)
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.Wait()
	r.ts.Release()

	var runs []func() error
	for k := range shards {
		cmd, stderr := r.start(t, index(k), args...)
		runs = append(runs, func() error {
			if err := cmd.Wait(); err != nil {
				return fmt.Errorf("shard %d: %v\n%s", k, err, stderr)
			}
			return nil
		})
	}
	for _, w := range runs {
		if err := w(); err != nil {
			t.Error(err)
		}
	}
	r.checkObjects(t, names, size)
}
