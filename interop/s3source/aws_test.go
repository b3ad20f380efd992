package s3source

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/wcdl/wcdl/downloader/s3test"
	"github.com/wcdl/wcdl/interop/loopback"
	"github.com/wcdl/wcdl/interop/wcdlbin"
)

// wcdl is the binary built for these tests by TestMain.
var wcdl *wcdlbin.Binary

func TestMain(m *testing.M) { wcdlbin.Main(m, &wcdl) }

const bucket = "esa-worldcover"

// Objects of the bucket: two uploaded in one part, one in 5 MiB parts.
var (
	single = []string{
		"v200/2021/map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif",
		"v100/2020/map/ESA_WorldCover_10m_2020_v100_N51E003_Map.tif",
	}
	multi = "v200/2021/input_quality/ESA_WorldCover_10m_2021_v200_N51E003_InputQuality.tif"
)

const manifestText = `N00E006
ESA_WorldCover_10m_2020_v100_N51E003_Map
ESA_WorldCover_10m_2021_v200_N51E003_InputQuality.tif
`

// publicBucket starts versitygw with a public-read bucket holding the
// objects, and returns the server and the bodies by key.
func publicBucket(t *testing.T) (*loopback.S3, map[string][]byte) {
	t.Helper()
	srv := loopback.Versitygw(t)
	ctx := t.Context()
	c := s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.Endpoint),
		Region:       srv.Region,
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
	})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",
		"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::%[1]s","arn:aws:s3:::%[1]s/*"]}]}`, bucket)
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)}); err != nil {
		t.Fatalf("bucket policy: %v", err)
	}
	bodies := map[string][]byte{}
	for _, key := range single {
		body, _ := s3test.WorldCover(256 << 10)(key)
		bodies[key] = body
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	body, _ := s3test.WorldCover(11<<20 + 4321)(multi)
	bodies[multi] = body
	putMultipart(ctx, t, c, multi, body, 5<<20)
	return srv, bodies
}

// putMultipart uploads body under key in parts of partSize bytes.
func putMultipart(ctx context.Context, t *testing.T, c *s3.Client, key string, body []byte, partSize int) {
	t.Helper()
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("multipart upload of %s: %v", key, err)
	}
	var parts []types.CompletedPart
	for off, n := 0, int32(1); off < len(body); off, n = off+partSize, n+1 {
		p, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(body[off:min(off+partSize, len(body))])})
		if err != nil {
			t.Fatalf("part %d of %s: %v", n, key, err)
		}
		parts = append(parts, types.CompletedPart{ETag: p.ETag, PartNumber: aws.Int32(n)})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatalf("complete %s: %v", key, err)
	}
}

// recorder is a reverse proxy to the S3 server that keeps every request's
// method, URL and headers.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func newRecorder(t *testing.T, target string) *recorder {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.seen = append(r.seen, req.Clone(context.Background()))
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// report is the part of wcdl's report these tests read.
type report struct {
	ExitCode int `json:"exit_code"`
	Summary  struct {
		TokenRequests int64 `json:"token_requests"`
	} `json:"summary"`
	Entries []struct {
		URL     string   `json:"url"`
		Path    string   `json:"path"`
		Status  string   `json:"status"`
		From    string   `json:"from"`
		Checked []string `json:"checked"`
		Error   string   `json:"error"`
	} `json:"entries"`
}

// runWCDL runs the wcdl binary with args and no WCDL_* environment, and
// returns its exit code, standard error and report.
func runWCDL(t *testing.T, args ...string) (int, string, report) {
	t.Helper()
	dir := t.TempDir()
	rep := filepath.Join(dir, "report.json")
	res := wcdl.Run(t.Context(), t, nil, append(args, "--report", rep, "--progress", "none")...)
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

func writeManifest(t *testing.T) string {
	m := filepath.Join(t.TempDir(), "tiles.txt")
	if err := os.WriteFile(m, []byte(manifestText), 0o644); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAnonymousBucket: wcdl --source aws fetches from a public versitygw
// bucket with no credentials anywhere, no Authorization header and no
// query; it checks the single-part ETags as MD5s and the multipart ETag as
// the MD5 of 5 MiB parts.
func TestAnonymousBucket(t *testing.T) {
	srv, bodies := publicBucket(t)
	rec := newRecorder(t, srv.Endpoint)
	out := filepath.Join(t.TempDir(), "out")
	code, stderr, r := runWCDL(t, "--source", "aws", "--base-url", "aws="+rec.URL+"/"+bucket, "-m", writeManifest(t), "-o", out, "-v")
	if code != 0 {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr)
	}
	want := map[string]string{single[0]: "etag-md5", single[1]: "etag-md5", multi: "etag-md5-parts"}
	for _, e := range r.Entries {
		key := strings.TrimPrefix(e.URL, rec.URL+"/"+bucket+"/")
		if e.Status != "downloaded" || e.From != "aws" || !slices.Contains(e.Checked, want[key]) || !slices.Contains(e.Checked, "tiff") {
			t.Errorf("%s: %s from %q, checked %v; want downloaded from aws, checked %s and tiff", key, e.Status, e.From, e.Checked, want[key])
		}
		got, err := os.ReadFile(e.Path)
		if err != nil || !bytes.Equal(got, bodies[key]) {
			t.Errorf("%s: the file differs from the object (%v)", key, err)
		}
	}
	if len(r.Entries) != len(want) || r.Summary.TokenRequests != 0 {
		t.Errorf("%d entries, %d token requests; want %d and 0", len(r.Entries), r.Summary.TokenRequests, len(want))
	}
	reqs := rec.requests()
	if len(reqs) != len(want) {
		t.Errorf("requests to the bucket: %d, want %d", len(reqs), len(want))
	}
	for _, req := range reqs {
		if v := req.Header.Get("Authorization"); v != "" {
			t.Errorf("%s %s carried an Authorization header", req.Method, req.URL.Path)
		}
		if req.URL.RawQuery != "" {
			t.Errorf("%s %s carried a query", req.Method, req.URL.Path)
		}
	}
}

// TestTamperedObjectRefused: an object overwritten in versitygw's folder
// behind its back (same size, other bytes; the ETag in its extended
// attributes stays) is refused by its ETag, and nothing is published.
func TestTamperedObjectRefused(t *testing.T) {
	srv, bodies := publicBucket(t)
	key := single[0]
	bad := bytes.Clone(bodies[key])
	bad[len(bad)/2] ^= 0xff
	f, err := os.OpenFile(filepath.Join(srv.Dir, bucket, filepath.FromSlash(key)), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bad, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	code, stderr, r := runWCDL(t, "--source", "aws", "--base-url", srv.Endpoint+"/"+bucket, "-m", writeManifest(t), "-o", out, "--retries", "2")
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", code, stderr)
	}
	for _, e := range r.Entries {
		tampered := strings.HasSuffix(e.URL, key)
		switch {
		case tampered && (e.Status != "failed" || !strings.Contains(e.Error, "ETag")):
			t.Errorf("tampered %s: %s (%s), want failed by its ETag", key, e.Status, e.Error)
		case !tampered && e.Status != "downloaded":
			t.Errorf("%s: %s (%s), want downloaded", e.URL, e.Status, e.Error)
		}
		if _, err := os.Stat(e.Path); tampered && err == nil {
			t.Errorf("the tampered object was published at %s", e.Path)
		}
	}
	left, _ := filepath.Glob(filepath.Join(out, "*.part*"))
	if len(left) > 0 {
		t.Errorf("partial files left: %v", left)
	}
}
