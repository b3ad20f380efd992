package bucket

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// s3Error is the body of an S3 error answer.
func s3Error(code, message, extra string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		fmt.Sprintf("<Error><Code>%s</Code><Message>%s</Message>%s<RequestId>4442587FB7D0A2F9</RequestId><HostId>h0st</HostId></Error>", code, message, extra)
}

// answer is how the fake bucket answers a request: status, body (none
// for a HEAD) and x-amz-bucket-region.
type answer struct {
	status       int
	body, region string
}

// TestOpenRefused: a refused first check names its likely cause from the
// S3 error code (a HEAD's answer has none: the listing's answer is read),
// and the bucket's region when S3 tells it, as S3 answers each.
func TestOpenRefused(t *testing.T) {
	const moved = "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint."
	for _, tt := range []struct {
		name      string
		head, get answer
		want      error
		wantText  []string
	}{
		{
			name: "wrong region, redirect",
			head: answer{status: http.StatusMovedPermanently, region: "eu-west-1"},
			get:  answer{status: http.StatusMovedPermanently, region: "eu-west-1", body: s3Error("PermanentRedirect", moved, "<Endpoint>tiles.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>tiles</Bucket>")},
			want: ErrWrongRegion, wantText: []string{"is in eu-west-1, not us-east-1"},
		},
		{
			name: "wrong region, malformed authorization",
			head: answer{status: http.StatusBadRequest, region: "eu-west-1"},
			get:  answer{status: http.StatusBadRequest, body: s3Error("AuthorizationHeaderMalformed", "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'", "<Region>eu-west-1</Region>")},
			want: ErrWrongRegion, wantText: []string{"is in eu-west-1, not us-east-1", "AuthorizationHeaderMalformed"},
		},
		{
			name: "wrong region, location constraint",
			head: answer{status: http.StatusBadRequest},
			get:  answer{status: http.StatusBadRequest, body: s3Error("IllegalLocationConstraintException", "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.", "")},
			want: ErrWrongRegion, wantText: []string{"signed for us-east-1"},
		},
		{
			name: "unknown access key",
			head: answer{status: http.StatusForbidden, region: "us-east-1"},
			get:  answer{status: http.StatusForbidden, body: s3Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", "<AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId>")},
			want: ErrAccess, wantText: []string{"refused the credentials"},
		},
		{
			name: "wrong secret",
			head: answer{status: http.StatusForbidden, region: "us-east-1"},
			get:  answer{status: http.StatusForbidden, body: s3Error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.", "<AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId>")},
			want: ErrAccess, wantText: []string{"refused the credentials"},
		},
		{
			name: "access denied",
			head: answer{status: http.StatusForbidden, region: "us-east-1"},
			get:  answer{status: http.StatusForbidden, body: s3Error("AccessDenied", "Access Denied", "")},
			want: ErrDenied, wantText: []string{"no access to the bucket"},
		},
		{
			name: "listing denied",
			head: answer{status: http.StatusOK},
			get:  answer{status: http.StatusForbidden, body: s3Error("AccessDenied", "Access Denied", "")},
			want: ErrDenied, wantText: []string{"no access to the bucket"},
		},
		{
			name: "missing bucket",
			head: answer{status: http.StatusNotFound},
			get:  answer{status: http.StatusNotFound, body: s3Error("NoSuchBucket", "The specified bucket does not exist", "<BucketName>tiles</BucketName>")},
			want: ErrNoBucket, wantText: []string{"does not exist"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				a := tt.get
				if r.Method == http.MethodHead {
					a = tt.head
				}
				if a.region != "" {
					w.Header().Set("x-amz-bucket-region", a.region)
				}
				if a.body != "" {
					w.Header().Set("Content-Type", "application/xml")
				}
				w.WriteHeader(a.status)
				if a.status == http.StatusOK {
					fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>tiles</Bucket><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>`)
					return
				}
				fmt.Fprint(w, a.body)
			}))
			defer srv.Close()
			awsEnv(t)

			_, err := Open(t.Context(), Config{URL: "s3://tiles/wc", Endpoint: srv.URL, PathStyle: true})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open: %v; want %v", err, tt.want)
			}
			for _, other := range []error{ErrWrongRegion, ErrAccess, ErrDenied, ErrNoBucket, ErrRefused, ErrUnreachable} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("Open: %v; is also %v", err, other)
				}
			}
			for _, w := range tt.wantText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Open: %v; want it to say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("Open: %v; shows the secret", err)
			}
		})
	}
}

// awsEnv gives the AWS SDK static credentials and region us-east-1, and
// no shared files or instance metadata to read.
func awsEnv(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_REGION": "us-east-1",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_PROFILE": "", "AWS_SESSION_TOKEN": "", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_S3": "",
	} {
		t.Setenv(k, v)
	}
}
