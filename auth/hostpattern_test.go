package auth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestCheckHostPattern(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"download.example.org", ""},
		{"download.example.org:8443", ""},
		{"*.dataspace.copernicus.eu", ""},
		{"*.example.org:8443", ""},
		{"127.0.0.1:8080", ""},
		{"", "empty"},
		{"*", "wildcard"},
		{"*.org", "too broad"},
		{"a.*.example.org", "wildcard"},
		{"**.example.org", "wildcard"},
		{"https://example.org", "not a URL"},
		{"example.org/path", "not a URL"},
		{"user@example.org", "not a URL"},
	}
	for _, tt := range tests {
		err := CheckHostPattern(tt.in)
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckHostPattern(%q) = %v, want error containing %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestHostPatternMatching(t *testing.T) {
	tr := &Transport{Trusted: []string{"*.dataspace.copernicus.eu", "*.files.test:8443"}}
	tests := []struct {
		url  string
		want bool
	}{
		{"https://zipper.dataspace.copernicus.eu/odata/v1/Products(1)/$value", true},
		{"https://a.b.dataspace.copernicus.eu/x", true},
		{"https://Zipper.DataSpace.Copernicus.EU/x", true},
		{"https://dataspace.copernicus.eu/x", false}, // the domain itself is not under it
		{"https://evildataspace.copernicus.eu/x", false},
		{"https://zipper.dataspace.copernicus.eu.evil.test/x", false},
		{"https://zipper.dataspace.copernicus.eu:8443/x", false},
		{"http://zipper.dataspace.copernicus.eu/x", false}, // plain http: never
		{"https://a.files.test:8443/x", true},
		{"https://a.files.test/x", false},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.url)
		if got := tr.trusted(u); got != tt.want {
			t.Errorf("trusted(%s): got %v, want %v", tt.url, got, tt.want)
		}
	}
}

// TestPresetHostPatternsCarryToken: the cdse preset's pattern lets the
// token follow a download to another host of the same provider, and to no
// other host.
func TestPresetHostPatternsCarryToken(t *testing.T) {
	f := newFixture(t, Config{})
	p, err := LookupPreset("cdse")
	if err != nil {
		t.Fatal(err)
	}
	trusted := append([]string{"catalogue.dataspace.copernicus.eu"}, p.AuthHosts...)
	for _, tt := range []struct {
		url       string
		wantToken bool
	}{
		{"https://catalogue.dataspace.copernicus.eu/odata/v1/Products", true},
		{"https://zipper.dataspace.copernicus.eu/odata/v1/Products(x)/$value", true},
		{"https://download.dataspace.copernicus.eu/odata/v1/Products(x)/$value", true},
		{"https://s3.amazonaws.com/bucket/x", false},
		{"http://zipper.dataspace.copernicus.eu/x", false},
	} {
		rec := &recordingRoundTripper{}
		tr := &Transport{Source: f.p, Base: rec, Trusted: trusted}
		req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		resp.Body.Close()
		if got := strings.HasPrefix(rec.auth[0], "Bearer "); got != tt.wantToken {
			t.Errorf("%s: sent a token: %v, want %v", tt.url, got, tt.wantToken)
		}
	}
}
