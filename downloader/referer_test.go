package downloader

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/downloader/hostiletest"
)

// fixedToken is a TokenSource that always gives the same token.
type fixedToken string

var _ auth.TokenSource = fixedToken("")

func (f fixedToken) Token(context.Context) (string, error)           { return string(f), nil }
func (f fixedToken) Refused(context.Context, string) (string, error) { return string(f), nil }

// TestRedirectTargetLearnsNothing follows a signed URL through a chain of
// redirects to another host that records every header it receives: it
// must see no Referer (Go's client sets it to the previous URL, query
// included), no Authorization (the token is for the signing host only),
// and nothing of the signed query anywhere in its request.
func TestRedirectTargetLearnsNothing(t *testing.T) {
	const secret = "S1GNATUR3"
	data := content(40<<10, 41)
	tests := []struct {
		name string
		hops int // redirects on the trusted host before the foreign one
	}{
		{name: "one hop", hops: 1},
		{name: "three hops", hops: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := hostiletest.New(data)
			t.Cleanup(target.Close)
			next := target.URL + "/f.bin"
			var first *hostiletest.Server
			for range tt.hops {
				first = hostiletest.New(nil, hostiletest.WithRedirect(next))
				t.Cleanup(first.Close)
				next = first.URL + "/hop?X-Amz-Signature=" + secret
			}
			client := &http.Client{Transport: &auth.Transport{Source: fixedToken("tok3n"), Base: NewTransport(1, nil),
				Trusted: []string{strings.TrimPrefix(first.URL, "http://")}}}
			d := newTest(t, Config{Client: client})
			e := entry(first.URL+"/f.bin?X-Amz-Signature="+secret+"&token="+secret, "f.bin")
			r := run(t, d, e)[0]
			if r.Status != Downloaded {
				t.Fatalf("Status = %s (%v), want downloaded", r.Status, r.Err)
			}
			if got := first.Seen(); len(got) == 0 || got[0].Get("Authorization") != "Bearer tok3n" {
				t.Fatalf("the signing host got %v, want the token: bad test", got)
			}
			seen, uris := target.Seen(), target.SeenURIs()
			if len(seen) != 1 {
				t.Fatalf("the redirect target got %d requests, want 1", len(seen))
			}
			if got := seen[0].Values("Referer"); len(got) != 0 {
				t.Errorf("Referer = %q, want none", got)
			}
			if got := seen[0].Get("Authorization"); got != "" {
				t.Errorf("Authorization = %q sent to a foreign host, want none", got)
			}
			for k, vs := range seen[0] {
				for _, v := range vs {
					if strings.Contains(v, secret) {
						t.Errorf("header %s: %q holds the signed query", k, v)
					}
				}
			}
			if strings.Contains(uris[0], secret) {
				t.Errorf("request target %q holds the signed query", uris[0])
			}
		})
	}
}
