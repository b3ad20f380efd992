package auth_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/auth/keycloaktest"
)

// ExampleTransport downloads a file from a service that wants a Keycloak
// bearer token, with the fake Keycloak standing in for the real one.
func ExampleTransport() {
	kc := keycloaktest.NewServer()
	defer kc.Close()
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !kc.Valid(tok) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "tile bytes")
	}))
	defer svc.Close()

	p, err := auth.NewProvider(auth.Config{
		TokenURL:    kc.TokenURL(),
		ClientID:    keycloaktest.DefaultClient,
		Credentials: auth.Credentials{Username: keycloaktest.DefaultUser, Password: keycloaktest.DefaultPassword},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close(context.Background())
	u, _ := url.Parse(svc.URL)
	client := &http.Client{Transport: &auth.Transport{Source: p, Trusted: []string{u.Host}}}

	for range 3 {
		resp, err := client.Get(svc.URL + "/tile.tif")
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	fmt.Println("token requests:", p.Stats().TokenRequests())
	// Output:
	// 200 tile bytes
	// 200 tile bytes
	// 200 tile bytes
	// token requests: 1
}
