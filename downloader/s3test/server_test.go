package s3test_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/downloader/s3test"
)

func get(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestObjects(t *testing.T) {
	s := s3test.NewServer("b")
	defer s.Close()
	body := []byte("0123456789abcdef")
	sum := md5.Sum(body)
	s.Put("dir/one", body)
	s.PutMultipart("dir/multi", body, 5)

	tests := []struct {
		name       string
		key        string
		header     map[string]string
		wantStatus int
		wantBody   string
		wantETag   string
	}{
		{"single part: ETag is the MD5", "dir/one", nil, 200, string(body), `"` + hex.EncodeToString(sum[:]) + `"`},
		{"multipart: -N ETag", "dir/multi", nil, 200, string(body), s3test.MultipartETag(body, 5)},
		{"range", "dir/one", map[string]string{"Range": "bytes=10-"}, 206, "abcdef", ""},
		{"If-Range with another ETag: the whole object", "dir/one", map[string]string{"Range": "bytes=10-", "If-Range": `"other"`}, 200, string(body), ""},
		{"missing key", "dir/none", nil, 404, "<Code>NoSuchKey</Code>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := get(t, s.URL()+"/"+tt.key, tt.header)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(b), tt.wantBody) {
				t.Errorf("got %d %q, want %d with %q", resp.StatusCode, b, tt.wantStatus, tt.wantBody)
			}
			if tt.wantETag != "" && resp.Header.Get("ETag") != tt.wantETag {
				t.Errorf("ETag %s, want %s", resp.Header.Get("ETag"), tt.wantETag)
			}
			if resp.Header.Get("x-amz-request-id") == "" {
				t.Error("no x-amz-request-id")
			}
		})
	}
	if got, want := s3test.MultipartETag(body, 5), `-4"`; !strings.HasSuffix(got, want) {
		t.Errorf("16 bytes in parts of 5: ETag %s, want 4 parts", got)
	}
	s.Tamper("dir/one", []byte("0123456789ABCDEF"))
	resp, b := get(t, s.URL()+"/dir/one", nil)
	if string(b) != "0123456789ABCDEF" || resp.Header.Get("ETag") != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("after Tamper: %q with ETag %s, want the new bytes under the old ETag", b, resp.Header.Get("ETag"))
	}
	st := s.Stats()
	if st.Requests != int64(len(tests))+1 || st.RangeRequests != 2 || st.NotFound != 1 || st.AuthorizationSeen != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestListObjectsV2(t *testing.T) {
	s := s3test.NewServer("b")
	defer s.Close()
	for _, k := range []string{"a/1", "a/2", "a/3", "b/1"} {
		s.Put(k, []byte(k))
	}
	type result struct {
		Keys        []string `xml:"Contents>Key"`
		IsTruncated bool     `xml:"IsTruncated"`
		Next        string   `xml:"NextContinuationToken"`
	}
	list := func(query string) result {
		resp, b := get(t, s.URL()+"?list-type=2&"+query, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("list %s: %d %s", query, resp.StatusCode, b)
		}
		var r result
		if err := xml.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := list("prefix=a/&max-keys=2")
	if strings.Join(first.Keys, ",") != "a/1,a/2" || !first.IsTruncated {
		t.Fatalf("first page %+v, want a/1,a/2, truncated", first)
	}
	second := list("prefix=a/&max-keys=2&continuation-token=" + first.Next)
	if strings.Join(second.Keys, ",") != "a/3" || second.IsTruncated {
		t.Errorf("second page %+v, want a/3, complete", second)
	}
}

func TestWorldCover(t *testing.T) {
	s := s3test.NewServer("esa-worldcover", s3test.WithGenerator(s3test.WorldCover(64<<10)))
	defer s.Close()
	tests := []struct {
		key  string
		want int
	}{
		{"v200/2021/map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif", 200},
		{"v100/2020/input_quality/ESA_WorldCover_10m_2020_v100_N51E003_InputQuality.tif", 200},
		{"v100/2021/map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif", 404}, // wrong folder
		{"v200/2021/map/ESA_WorldCover_10m_2021_v200_S60W180_Map.tif", 404}, // sea in the stand-in mask
		{s3test.GridKey, 200},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			resp, b := get(t, s.URL()+"/"+tt.key, nil)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 200 && strings.HasSuffix(tt.key, ".tif") && (len(b) != 64<<10 || string(b[:2]) != "II") {
				t.Errorf("got %d bytes starting %q, want a 64 KiB TIFF", len(b), b[:2])
			}
		})
	}
}
