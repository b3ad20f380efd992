// Package loopback starts real servers (versitygw for S3, Azurite for Azure
// Blob storage) on 127.0.0.1 for tests, each with a folder of its own, and
// stops them when the test ends.
//
// A server whose program is not installed skips the test with a message that
// says how to install it, except under CI (CI=true), where it fails the test:
// .ci/run installs every program these tests need.
package loopback

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to accept connections.
const startTimeout = 60 * time.Second

// program finds an installed program: the path in the environment variable
// env when set, else name on PATH, else name in $(go env GOPATH)/bin.
func program(t testing.TB, env, name, install string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if gopath, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s is not installed (install it with: %s, or set %s)", name, install, env)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server is a started program and the address it listens on.
type server struct {
	cmd  *exec.Cmd
	addr string
	log  *bytes.Buffer
	done chan struct{} // closed when the process has exited
	err  error         // the process's exit, valid after done
}

// start runs argv with extra environment variables, waits until addr accepts
// connections, and stops the process at the end of the test.
func start(t testing.TB, addr string, env []string, argv ...string) *server {
	t.Helper()
	s := &server{addr: addr, log: &bytes.Buffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Azurite is node with children
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", argv[0], err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.stop)
	if err := s.waitReady(); err != nil {
		t.Fatalf("%s: %v\n%s", argv[0], err, s.log.String())
	}
	return s
}

// waitReady waits until the server accepts a connection, it exits, or
// startTimeout passes.
func (s *server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", s.addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited before it listened on %s: %v", s.addr, s.err)
		case <-ctx.Done():
			return fmt.Errorf("not listening on %s after %v", s.addr, startTimeout)
		case <-tick.C:
		}
	}
}

// stop ends the server's process group and waits for it.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// S3 is a versitygw server on loopback with a POSIX folder as its storage.
type S3 struct {
	Endpoint  string // http://127.0.0.1:PORT
	Region    string
	AccessKey string
	SecretKey string
	Dir       string // the folder whose subfolders are the buckets
	srv       *server
}

// Versitygw starts versitygw on a free loopback port with a fresh folder and
// root credentials made for this test.
func Versitygw(t testing.TB) *S3 {
	t.Helper()
	bin := program(t, "WCDL_VERSITYGW", "versitygw", "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
	s := &S3{Region: "us-east-1", AccessKey: "wcdltestroot", SecretKey: "wcdl-test-root-secret-key", Dir: t.TempDir()}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	s.Endpoint = "http://" + addr
	s.srv = start(t, addr, []string{"ROOT_ACCESS_KEY=" + s.AccessKey, "ROOT_SECRET_KEY=" + s.SecretKey},
		bin, "--port", addr, "--region", s.Region, "--quiet", "posix", s.Dir)
	return s
}

// Restart stops the server and starts it again on the same port and folder,
// as a server restarted in the middle of a run.
func (s *S3) Restart(t testing.TB) {
	t.Helper()
	s.srv.stop()
	argv := s.srv.cmd.Args
	s.srv = start(t, s.srv.addr, []string{"ROOT_ACCESS_KEY=" + s.AccessKey, "ROOT_SECRET_KEY=" + s.SecretKey}, append([]string{s.srv.cmd.Path}, argv[1:]...)...)
}

// Azure is an Azurite Blob service on loopback. Accounts are named by the
// first path segment of a URL (http://127.0.0.1:PORT/devstoreaccount1/...).
type Azure struct {
	Endpoint string // http://127.0.0.1:PORT
	Account  string // Azurite's well-known development account
	Key      string // its base64 account key, public by design
	Dir      string
}

// Azurite's development account and key, published in its documentation.
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Azurite starts azurite-blob on a free loopback port with a fresh folder.
func Azurite(t testing.TB) *Azure {
	t.Helper()
	bin := program(t, "WCDL_AZURITE_BLOB", "azurite-blob", "npm install azurite, and put node_modules/.bin on PATH")
	a := &Azure{Account: azuriteAccount, Key: azuriteKey, Dir: t.TempDir()}
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	a.Endpoint = "http://" + addr
	start(t, addr, nil, bin, "--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port),
		"--location", a.Dir, "--silent", "--skipApiVersionCheck", "--disableTelemetry")
	return a
}
