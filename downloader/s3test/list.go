package s3test

import (
	"encoding/xml"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// listResult is S3's ListBucketResult for ListObjectsV2.
type listResult struct {
	XMLName               xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string   `xml:"Name"`
	Prefix                string   `xml:"Prefix"`
	KeyCount              int      `xml:"KeyCount"`
	MaxKeys               int      `xml:"MaxKeys"`
	IsTruncated           bool     `xml:"IsTruncated"`
	ContinuationToken     string   `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string   `xml:"NextContinuationToken,omitempty"`
	Contents              []listed `xml:"Contents"`
}

type listed struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int    `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

// list answers ListObjectsV2 over the objects stored (generated objects
// appear once requested, as a generator cannot be listed).
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("list-type") != "2" {
		s.fail(w, http.StatusNotImplemented, "NotImplemented", "Only ListObjectsV2 (list-type=2) is implemented.")
		return
	}
	max := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.fail(w, http.StatusBadRequest, "InvalidArgument", "max-keys must be a non-negative integer.")
			return
		}
		max = min(n, 1000)
	}
	prefix, after := q.Get("prefix"), q.Get("continuation-token")
	if after == "" {
		after = q.Get("start-after")
	}
	s.mu.Lock()
	var keys []string
	for k := range s.objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	res := listResult{Name: s.bucket, Prefix: prefix, MaxKeys: max, ContinuationToken: q.Get("continuation-token")}
	for _, k := range keys {
		if len(res.Contents) == max {
			res.IsTruncated, res.NextContinuationToken = true, res.Contents[len(res.Contents)-1].Key
			break
		}
		o := s.objects[k]
		res.Contents = append(res.Contents, listed{Key: k, LastModified: modTime.Format("2006-01-02T15:04:05.000Z"),
			ETag: o.etag, Size: len(o.body), StorageClass: "STANDARD"})
	}
	s.mu.Unlock()
	res.KeyCount = len(res.Contents)
	w.Header().Set("Content-Type", "application/xml")
	w.Write([]byte(xml.Header))
	xml.NewEncoder(w).Encode(res)
}
