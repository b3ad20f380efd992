package azsource

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/wcdl/wcdl/auth/pctest"
	"github.com/wcdl/wcdl/downloader/s3test"
	"github.com/wcdl/wcdl/interop/loopback"
	"github.com/wcdl/wcdl/interop/wcdlbin"
)

// wcdl is the binary built for these tests by TestMain.
var wcdl *wcdlbin.Binary

func TestMain(m *testing.M) { wcdlbin.Main(m, &wcdl) }

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
	access := container.PublicAccessTypeBlob
	return newContainer(t, &access)
}

// newContainer starts Azurite with a container of the given public access
// (nil: private) holding the blobs.
func newContainer(t *testing.T, access *container.PublicAccessType) (*loopback.Azure, map[string][]byte) {
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
	if _, err := c.CreateContainer(t.Context(), containerName, &azblob.CreateContainerOptions{Access: access}); err != nil {
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
	res := wcdl.Run(t.Context(), t, nil, append(args, "-m", m, "-o", filepath.Join(dir, "out"), "--report", rep, "--progress", "none")...)
	code, stderr := res.Code, res.Stderr
	var r report
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatalf("report: %v; stderr:\n%s", err, stderr)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return code, stderr, r
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

// TestPrivateContainerSAS: --source pc on a private container takes one
// SAS token for the container from the Planetary Computer's endpoint (a
// fake that signs real tokens for Azurite) and downloads every blob with
// it; --no-auth gets nothing from a private container.
func TestPrivateContainerSAS(t *testing.T) {
	az, _ := newContainer(t, nil)
	pc := pctest.NewServer(pctest.Options{})
	defer pc.Close()
	root := az.Endpoint + "/" + az.Account + "/" + containerName
	code, stderr, r := runWCDL(t, "--source", "pc", "--base-url", "pc="+root, "--token-url", pc.URL)
	if code != 0 {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr)
	}
	for _, e := range r.Entries {
		if e.Status != "downloaded" || e.From != "pc" || !slices.Contains(e.Checked, "content-md5") {
			t.Errorf("%s: %s from %q, checked %v; want downloaded from pc, checked content-md5", e.URL, e.Status, e.From, e.Checked)
		}
	}
	if n := pc.Requests(); n != 1 {
		t.Errorf("token requests: %d, want 1 for the one container", n)
	}
	if strings.Contains(stderr, "sig=") {
		t.Errorf("stderr shows a signature:\n%s", stderr)
	}
	code, _, r = runWCDL(t, "--source", "pc", "--base-url", "pc="+root, "--no-auth", "--retries", "1")
	if code != 1 || r.Entries[0].Status != "failed" {
		t.Errorf("--no-auth on a private container: exit %d, %s; want 1, failed", code, r.Entries[0].Status)
	}
	if n := pc.Requests(); n != 1 {
		t.Errorf("token requests after the --no-auth run: %d, want still 1", n)
	}
}
