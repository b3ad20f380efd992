package loopback

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServersAnswer starts each server and checks that it answers an
// unsigned request as the real service does: with an S3 or Azure error
// document, not a connection error.
func TestServersAnswer(t *testing.T) {
	tests := []struct {
		name  string
		url   func(t *testing.T) string
		want  int
		inDoc string
	}{
		{"versitygw", func(t *testing.T) string { return Versitygw(t).Endpoint + "/" }, http.StatusForbidden, "<Error>"},
		{"azurite", func(t *testing.T) string {
			a := Azurite(t)
			return a.Endpoint + "/" + a.Account + "/missing?restype=container"
		}, http.StatusForbidden, "<Error>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := http.Get(tt.url(t))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.inDoc) {
				t.Errorf("got %d %q, want %d and a body with %q", resp.StatusCode, body, tt.want, tt.inDoc)
			}
		})
	}
}
