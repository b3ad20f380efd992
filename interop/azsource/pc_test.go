package azsource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/wcdl/wcdl/downloader/s3test"
	"github.com/wcdl/wcdl/interop/loopback"
)

// wcdl is the binary built for these tests by TestMain.
var wcdl string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wcdl-azsource-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wcdl = filepath.Join(dir, "wcdl")
	build := exec.Command("go", "build", "-o", wcdl, "./cmd/wcdl")
	build.Dir = "../.." // the main module
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building wcdl: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const containerName = "esa-worldcover"

var blobs = []string{
	"v200/2021/map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif",
	"v100/2020/map/ESA_WorldCover_10m_2020_v100_N51E003_Map.tif",
}

const manifestText = "N00E006\nESA_WorldCover_10m_2020_v100_N51E003_Map\n"

// publicContainer starts Azurite with a container whose blobs anyone may
// read, holding the blobs, and returns it and the bodies by name.
func publicContainer(t *testing.T) (*loopback.Azure, map[string][]byte) {
	t.Helper()
	az := loopback.Azurite(t)
	cred, err := azblob.NewSharedKeyCredential(az.Account, az.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := azblob.NewClientWithSharedKeyCredential(az.Endpoint+"/"+az.Account, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	access := container.PublicAccessTypeBlob
	if _, err := c.CreateContainer(t.Context(), containerName, &azblob.CreateContainerOptions{Access: &access}); err != nil {
		t.Fatalf("create container: %v", err)
	}
	bodies := map[string][]byte{}
	for _, name := range blobs {
		body, _ := s3test.WorldCover(256 << 10)(name)
		bodies[name] = body
		if _, err := c.UploadBuffer(t.Context(), containerName, name, body, nil); err != nil {
			t.Fatalf("upload %s: %v", name, err)
		}
	}
	return az, bodies
}

// report is the part of wcdl's report these tests read.
type report struct {
	Entries []struct {
		URL     string   `json:"url"`
		Path    string   `json:"path"`
		Status  string   `json:"status"`
		From    string   `json:"from"`
		Checked []string `json:"checked"`
		Error   string   `json:"error"`
	} `json:"entries"`
}

func runWCDL(t *testing.T, args ...string) (int, string, report) {
	t.Helper()
	dir := t.TempDir()
	m := filepath.Join(dir, "tiles.txt")
	if err := os.WriteFile(m, []byte(manifestText), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(dir, "report.json")
	cmd := exec.CommandContext(t.Context(), wcdl, append(args, "-m", m, "-o", filepath.Join(dir, "out"), "--report", rep, "--progress", "none")...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running wcdl: %v", err)
		}
		code = ee.ExitCode()
	}
	var r report
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatalf("report: %v; stderr:\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return code, stderr.String(), r
}

// TestContainerContentMD5: the pc layout under an emulator's account path
// finds the blobs, and Azurite's Content-MD5 is checked.
func TestContainerContentMD5(t *testing.T) {
	az, bodies := publicContainer(t)
	root := az.Endpoint + "/" + az.Account + "/" + containerName
	code, stderr, r := runWCDL(t, "--source", "pc", "--base-url", "pc="+root, "--no-auth")
	if code != 0 {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr)
	}
	if len(r.Entries) != len(blobs) {
		t.Fatalf("%d entries, want %d", len(r.Entries), len(blobs))
	}
	for _, e := range r.Entries {
		name := strings.TrimPrefix(e.URL, root+"/")
		if e.Status != "downloaded" || e.From != "pc" || !slices.Contains(e.Checked, "content-md5") {
			t.Errorf("%s: %s from %q, checked %v; want downloaded from pc, checked content-md5", name, e.Status, e.From, e.Checked)
		}
		if got, err := os.ReadFile(e.Path); err != nil || !bytes.Equal(got, bodies[name]) {
			t.Errorf("%s: the file differs from the blob (%v)", name, err)
		}
	}
}

// TestTamperedBlobRefused: a blob whose stored bytes change behind
// Azurite's back (same size; its Content-MD5 stays) is refused, and
// nothing is published.
func TestTamperedBlobRefused(t *testing.T) {
	az, bodies := publicContainer(t)
	name := blobs[0]
	tamper(t, az.Dir, bodies[name])
	root := az.Endpoint + "/" + az.Account + "/" + containerName
	code, stderr, r := runWCDL(t, "--source", "pc", "--base-url", "pc="+root, "--no-auth", "--retries", "2")
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", code, stderr)
	}
	for _, e := range r.Entries {
		tampered := strings.HasSuffix(e.URL, name)
		switch {
		case tampered && (e.Status != "failed" || !strings.Contains(e.Error, "Content-MD5")):
			t.Errorf("tampered %s: %s (%s), want failed by its Content-MD5", name, e.Status, e.Error)
		case !tampered && e.Status != "downloaded":
			t.Errorf("%s: %s (%s), want downloaded", e.URL, e.Status, e.Error)
		}
		if _, err := os.Stat(e.Path); tampered && err == nil {
			t.Errorf("the tampered blob was published at %s", e.Path)
		}
	}
}

// tamper flips one byte of body where Azurite stores it in dir: its
// extent files hold blob bytes as they are.
func tamper(t *testing.T, dir string, body []byte) {
	t.Helper()
	probe := body[len(body)/2 : len(body)/2+64]
	found := false
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		i := bytes.Index(b, probe)
		if i < 0 {
			return nil
		}
		b[i] ^= 0xff
		found = true
		return os.WriteFile(path, b, 0o600)
	})
	if !found {
		t.Fatal("the blob's bytes were not found in Azurite's folder")
	}
}
