// Package wcdlbin builds the wcdl command of the main module once and runs it
// as a separate process, the way users and schedulers run it, so that tests
// outside package main can drive the whole program.
package wcdlbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A Binary is a built wcdl executable.
type Binary struct {
	Path string
}

// Build compiles github.com/wcdl/wcdl/cmd/wcdl into dir, in the main
// module's own folder and with its go.mod, as `go install` would. When the
// calling test binary runs under the race detector, so does wcdl. Call it
// once, from TestMain.
func Build(ctx context.Context, dir string) (*Binary, error) {
	root, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/wcdl/wcdl").Output()
	if err != nil {
		return nil, fmt.Errorf("wcdlbin: finding the main module: %w", err)
	}
	bin := filepath.Join(dir, "wcdl")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/wcdl")...)
	cmd.Dir = strings.TrimSpace(string(root))
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("wcdlbin: go %s: %w\n%s", strings.Join(cmd.Args[1:], " "), err, out)
	}
	return &Binary{Path: bin}, nil
}

// Result is what a run of wcdl did.
type Result struct {
	Code   int // exit code
	Stdout string
	Stderr string
}

// Run runs wcdl with args and an environment holding only env, HOME set to
// a fresh folder (so no ~/.netrc or cache of the machine is read) unless env
// sets it, and waits for it to end. It fails the test only when wcdl could
// not be started or was killed by a signal it did not handle.
func (b *Binary) Run(ctx context.Context, t testing.TB, env map[string]string, args ...string) Result {
	t.Helper()
	cmd := exec.CommandContext(ctx, b.Path, args...)
	cmd.Env = []string{"HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || exit.ExitCode() < 0) {
		t.Fatalf("running wcdl: %v\nstderr:\n%s", err, stderr.String())
	}
	return Result{Code: cmd.ProcessState.ExitCode(), Stdout: stdout.String(), Stderr: stderr.String()}
}

// Main builds wcdl into a temporary folder, runs the tests of m with it in
// *bin, removes the folder, and exits: the body of a TestMain.
func Main(m *testing.M, bin **Binary) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "wcdlbin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		b, err := Build(context.Background(), dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		*bin = b
		return m.Run()
	}())
}
