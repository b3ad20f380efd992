package blobfake

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/wcdl/wcdl/auth/pctest"
	"github.com/wcdl/wcdl/downloader/blobtest"
	"github.com/wcdl/wcdl/downloader/s3test"
	"github.com/wcdl/wcdl/interop/loopback"
)

const (
	containerName = "esa-worldcover"
	blobName      = "v200/2021/map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif"
	size          = 4096
)

// sameValue are the headers whose values must agree; samePresence those
// that must be present in both answers or in neither.
var (
	sameValue = []string{"Content-Length", "Content-Range", "Content-Type", "Content-MD5", "x-ms-blob-content-md5",
		"x-ms-blob-type", "Accept-Ranges", "x-ms-error-code"}
	samePresence = []string{"x-ms-request-id", "x-ms-version", "ETag", "Last-Modified", "x-ms-creation-time"}
)

// errCode is the <Code> of an error document.
var errCode = regexp.MustCompile(`<Code>([^<]*)</Code>`)

// answer is what a service answered to one request.
type answer struct {
	code int
	h    http.Header
	body []byte
}

func ask(t *testing.T, method, url string, headers map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

// TestAnswersAsAzurite sends each request to Azurite and to blobtest's
// container (holding the same blob, checking SAS tokens with the same
// development key, and answering a refused SAS with Azurite's code) and
// compares the answers.
func TestAnswersAsAzurite(t *testing.T) {
	az := loopback.Azurite(t)
	cred, err := azblob.NewSharedKeyCredential(az.Account, az.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := azblob.NewClientWithSharedKeyCredential(az.Endpoint+"/"+az.Account, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateContainer(t.Context(), containerName, nil); err != nil { // private
		t.Fatalf("create container: %v", err)
	}
	body, _ := s3test.WorldCover(size)(blobName)
	if _, err := c.UploadBuffer(t.Context(), containerName, blobName, body, nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	fake := blobtest.NewServer(pctest.DevAccount, pctest.DevKey, containerName, blobtest.WithRefusalCode(blobtest.AuthorizationFailure))
	defer fake.Close()
	fake.Put(blobName, body)

	now := time.Now()
	sas := func(container string, start, expiry time.Time) string {
		tok, err := pctest.ContainerSAS(az.Account, az.Key, container, "rl", start, expiry)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := sas(containerName, now.Add(-15*time.Minute), now.Add(time.Hour))
	expired := sas(containerName, now.Add(-time.Hour), now.Add(-time.Minute))
	other := sas("other", time.Time{}, now.Add(time.Hour))
	forged := strings.Replace(good, "sig=", "sig=AAAA", 1)

	tests := []struct {
		name, method, blob, query string
		headers                   map[string]string
	}{
		{"whole", "GET", blobName, good, nil},
		{"head", "HEAD", blobName, good, nil},
		{"range", "GET", blobName, good, map[string]string{"Range": "bytes=0-99"}},
		{"open range", "GET", blobName, good, map[string]string{"Range": "bytes=4000-"}},
		// A range starting at the size itself (bytes=4096-) gets 416 from
		// Azure and from blobtest, but from Azurite 3.35 a 206 with
		// "Content-Range: bytes 4096-4095/4096" and no body: not compared.
		{"range past the end", "GET", blobName, good, map[string]string{"Range": "bytes=5000-"}},
		{"x-ms-range", "GET", blobName, good, map[string]string{"x-ms-range": "bytes=10-19"}},
		{"If-Range of another version", "GET", blobName, good, map[string]string{"Range": "bytes=0-99", "If-Range": `"0x8D0000000000000"`}},
		{"missing blob", "GET", "v200/2021/map/none.tif", good, nil},
		{"missing blob, HEAD", "HEAD", "v200/2021/map/none.tif", good, nil},
		{"no SAS", "GET", blobName, "", nil},
		{"expired SAS", "GET", blobName, expired, nil},
		{"expired SAS, HEAD", "HEAD", blobName, expired, nil},
		{"forged SAS", "GET", blobName, forged, nil},
		{"another container's SAS", "GET", blobName, other, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := ""
			if tt.query != "" {
				q = "?" + tt.query
			}
			want := ask(t, tt.method, az.Endpoint+"/"+az.Account+"/"+containerName+"/"+tt.blob+q, tt.headers)
			got := ask(t, tt.method, fake.URL()+"/"+tt.blob+q, tt.headers)
			if got.code != want.code {
				t.Errorf("status: blobtest %d, Azurite %d", got.code, want.code)
			}
			for _, k := range sameValue {
				if k == "Content-Length" && want.code >= 300 {
					continue // Azurite sends error documents chunked
				}
				if g, w := got.h.Get(k), want.h.Get(k); g != w {
					t.Errorf("%s: blobtest %q, Azurite %q", k, g, w)
				}
			}
			for _, k := range samePresence {
				if g, w := got.h.Get(k) != "", want.h.Get(k) != ""; g != w {
					t.Errorf("%s present: blobtest %v (%q), Azurite %v (%q)", k, g, got.h.Get(k), w, want.h.Get(k))
				}
			}
			if et := got.h.Get("ETag"); et != "" && !(strings.HasPrefix(et, `"0x`) && strings.HasSuffix(et, `"`)) {
				t.Errorf("ETag: blobtest %q, want Azure's quoted 0x... form (Azurite %q)", et, want.h.Get("ETag"))
			}
			if want.code < 300 && string(got.body) != string(want.body) {
				t.Errorf("body: blobtest %d bytes, Azurite %d, or other bytes", len(got.body), len(want.body))
			}
			if want.code >= 300 {
				g, w := errCode.FindSubmatch(got.body), errCode.FindSubmatch(want.body)
				if (g == nil) != (w == nil) || g != nil && string(g[1]) != string(w[1]) {
					t.Errorf("error document: blobtest %q, Azurite %q", got.body, want.body)
				}
			}
		})
	}
}
