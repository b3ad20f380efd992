package auth

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTokenURLQueryNeverShown: a token URL may carry a secret in its query
// (an API key, say); errors, logs and the provider's String name the URL
// without it, for a refused login and for an endpoint that cannot be
// reached.
func TestTokenURLQueryNeverShown(t *testing.T) {
	const secret = "k=S3CRET-KEY"
	refusing := newScripted(t, func(string, int) (int, http.Header, string) {
		return 401, http.Header{"Content-Type": {"application/json"}}, `{"error":"invalid_grant","error_description":"Invalid user credentials"}`
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/token"
	l.Close()
	for _, tokenURL := range []string{refusing.tokenURL() + "?" + secret, closed + "?" + secret} {
		var logs bytes.Buffer
		p, err := NewProvider(Config{TokenURL: tokenURL, ClientID: "c", Credentials: Credentials{Username: testUser, Password: testPassword},
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Sleep:  func(context.Context, time.Duration) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Token(context.Background())
		if err == nil {
			t.Fatalf("%s: Token succeeded, want an error", closed)
		}
		for what, text := range map[string]string{"error": err.Error(), "log": logs.String(), "String": fmt.Sprint(p)} {
			if strings.Contains(text, "S3CRET") {
				t.Errorf("the %s shows the token URL's query: %s", what, text)
			}
		}
	}
}
