package s3out_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/wcdl/wcdl/auth/keycloaktest"
	"github.com/wcdl/wcdl/downloader/terrascopetest"
	"github.com/wcdl/wcdl/downloader/tiff"
	"github.com/wcdl/wcdl/interop/loopback"
	"github.com/wcdl/wcdl/interop/wcdlbin"
)

// wcdl is the command built by TestMain.
var wcdl *wcdlbin.Binary

func TestMain(m *testing.M) { wcdlbin.Main(m, &wcdl) }

const (
	bucketName = "tiles"
	prefix     = "run/"
)

// rig is a versitygw behind a proxy that counts the requests that write,
// a fake Keycloak and a fake download service.
type rig struct {
	s3     *loopback.S3
	proxy  *httptest.Server
	writes atomic.Int64 // PUT, POST and DELETE requests through the proxy
	// refused receives a value for each 412 answer (a conditional write
	// refused), if a test waits for it.
	refused chan struct{}
	kc      *keycloaktest.Server
	ts      *terrascopetest.Server
	client  *s3.Client
}

func newRig(t *testing.T, opts ...terrascopetest.Option) *rig {
	t.Helper()
	r := &rig{s3: loopback.Versitygw(t), refused: make(chan struct{}, 1024)}
	target, _ := url.Parse(r.s3.Endpoint)
	rp := httputil.NewSingleHostReverseProxy(target)
	r.proxy = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		if q.Method != http.MethodGet && q.Method != http.MethodHead {
			r.writes.Add(1)
		}
		rp.ServeHTTP(&statusWriter{ResponseWriter: w, r: r}, q)
	}))
	t.Cleanup(r.proxy.Close)
	r.kc = keycloaktest.NewServer()
	t.Cleanup(r.kc.Close)
	r.ts = terrascopetest.NewServer(r.kc, opts...)
	t.Cleanup(r.ts.Close)
	r.client = s3.New(s3.Options{
		BaseEndpoint: aws.String(r.s3.Endpoint), Region: r.s3.Region, UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(r.s3.AccessKey, r.s3.SecretKey, ""),
	})
	if _, err := r.client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucketName)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return r
}

// env is wcdl's environment: the account and the bucket's credentials.
func (r *rig) env() map[string]string {
	return map[string]string{
		"WCDL_USERNAME": keycloaktest.DefaultUser, "WCDL_PASSWORD": keycloaktest.DefaultPassword,
		"AWS_ACCESS_KEY_ID": r.s3.AccessKey, "AWS_SECRET_ACCESS_KEY": r.s3.SecretKey,
		"AWS_REGION": r.s3.Region, "AWS_EC2_METADATA_DISABLED": "true",
	}
}

// args are wcdl's arguments for manifest into the bucket.
func (r *rig) args(manifest string, extra ...string) []string {
	return append([]string{"-m", manifest, "--token-url", r.kc.TokenURL(), "--client-id", keycloaktest.DefaultClient,
		"--base-url", r.ts.URL(), "-o", "s3://" + bucketName + "/" + prefix, "--s3-endpoint", r.proxy.URL, "--s3-path-style",
		"--s3-part-size", "5M", "-w", "2", "--progress", "none", "--retry-max-wait", "2s"}, extra...)
}

// writeManifest writes n tile ids, with extra after the first, and
// returns its path and the object names they become.
func writeManifest(t *testing.T, n int, extra string) (string, []string) {
	t.Helper()
	var b strings.Builder
	var names []string
	for i := range n {
		id := fmt.Sprintf("N00E%03d", 3*i)
		if i == 0 && extra != "" {
			fmt.Fprintf(&b, "%s %s\n", id, extra)
		} else {
			fmt.Fprintln(&b, id)
		}
		names = append(names, "ESA_WorldCover_10m_2021_v200_"+id+"_Map.tif")
	}
	p := filepath.Join(t.TempDir(), "tiles.txt")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, names
}

// objects lists the keys under prefix and their sizes.
func (r *rig) objects(t *testing.T) map[string]int64 {
	t.Helper()
	out, err := r.client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucketName)})
	if err != nil {
		t.Fatalf("list objects: %v", err)
	}
	m := map[string]int64{}
	for _, o := range out.Contents {
		m[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
	}
	return m
}

// openUploads counts the incomplete multipart uploads in the bucket.
func (r *rig) openUploads(t *testing.T) int {
	t.Helper()
	out, err := r.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucketName)})
	if err != nil {
		t.Fatalf("list uploads: %v", err)
	}
	return len(out.Uploads)
}

// checkObjects checks that the bucket holds exactly names under prefix,
// each of size bytes, a whole TIFF whose SHA-256 is the one stored with
// it.
func (r *rig) checkObjects(t *testing.T, names []string, size int64) {
	t.Helper()
	got := r.objects(t)
	var keys, want []string
	for k := range got {
		keys = append(keys, k)
	}
	for _, n := range names {
		want = append(want, prefix+n)
	}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("objects %q, want %q", keys, want)
	}
	for _, k := range keys {
		o, err := r.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucketName), Key: aws.String(k)})
		if err != nil {
			t.Fatalf("get %s: %v", k, err)
		}
		b, err := io.ReadAll(o.Body)
		o.Body.Close()
		if err != nil {
			t.Fatalf("read %s: %v", k, err)
		}
		sum := sha256.Sum256(b)
		if int64(len(b)) != size {
			t.Errorf("%s: %d bytes, want %d", k, len(b), size)
		}
		if got, want := o.Metadata["sha256"], hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: x-amz-meta-sha256 %q, want %q (the SHA-256 of its bytes)", k, got, want)
		}
		if err := tiff.Check(context.Background(), bytes.NewReader(b), int64(len(b))); err != nil {
			t.Errorf("%s: %v", k, err)
		}
		if size < 5<<20 {
			// One PutObject: the bucket keeps the full object's SHA-256.
			h, err := r.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucketName), Key: aws.String(k), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatalf("head %s: %v", k, err)
			}
			if got, want := aws.ToString(h.ChecksumSHA256), base64.StdEncoding.EncodeToString(sum[:]); got != want {
				t.Errorf("%s: x-amz-checksum-sha256 %q, want %q", k, got, want)
			}
		}
	}
	if n := r.openUploads(t); n != 0 {
		t.Errorf("%d incomplete uploads left, want 0", n)
	}
}

// report is the part of wcdl's JSON report these tests read.
type report struct {
	ExitCode int `json:"exit_code"`
	Summary  struct {
		Downloaded, Skipped, Failed int
	} `json:"summary"`
	UploadsAborted int64 `json:"uploads_aborted"`
	Entries        []struct {
		Path, Status, Error string
	} `json:"entries"`
}

func readReport(t *testing.T, path string) report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the report: %v", err)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, b)
	}
	return r
}

// start starts wcdl without waiting for it, with extra in its
// environment.
func (r *rig) start(t *testing.T, extra map[string]string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(wcdl.Path, args...)
	cmd.Env = []string{"HOME=" + t.TempDir()}
	for k, v := range r.env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	for k, v := range extra {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// waitParts waits until the bucket's open uploads hold n parts in all: the
// bytes a run has made durable. It looks every few milliseconds, with a
// deadline, since the bucket tells no one.
func (r *rig) waitParts(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		total := 0
		ups, err := r.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucketName)})
		if err == nil {
			for _, u := range ups.Uploads {
				ps, err := r.client.ListParts(context.Background(), &s3.ListPartsInput{Bucket: aws.String(bucketName), Key: u.Key, UploadId: u.UploadId})
				if err == nil {
					total += len(ps.Parts)
				}
			}
		}
		if total >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the open uploads hold %d parts after 2 minutes, want %d", total, n)
		}
	}
}

// wait waits for ch or fails after a deadline.
func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(2 * time.Minute):
		t.Fatalf("no %s after 2 minutes", what)
	}
}

// waitRefused waits until the bucket has refused n conditional writes
// (412: a lock held by another run).
func (r *rig) waitRefused(t *testing.T, n int) {
	t.Helper()
	for range n {
		wait(t, r.refused, "lock refused")
	}
}

// statusWriter tells the rig of each 412 answer.
type statusWriter struct {
	http.ResponseWriter
	r *rig
}

func (w *statusWriter) WriteHeader(code int) {
	if code == http.StatusPreconditionFailed {
		select {
		case w.r.refused <- struct{}{}:
		default:
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// objectSHA returns the hex SHA-256 of the object at key.
func (r *rig) objectSHA(t *testing.T, key string) string {
	t.Helper()
	o, err := r.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucketName), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer o.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, o.Body); err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// waitStateParts waits until the state object at key records n parts
// uploaded: parts a run has made durable and will resume. It looks every
// few milliseconds, with a deadline, since the bucket tells no one.
func (r *rig) waitStateParts(t *testing.T, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		var st struct {
			Parts []json.RawMessage `json:"parts"`
		}
		o, err := r.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucketName), Key: aws.String(key)})
		if err == nil {
			b, _ := io.ReadAll(o.Body)
			o.Body.Close()
			json.Unmarshal(b, &st)
		}
		if len(st.Parts) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s records %d parts after 2 minutes, want %d", key, len(st.Parts), n)
		}
	}
}
