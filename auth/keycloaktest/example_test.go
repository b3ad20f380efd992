package keycloaktest_test

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/wcdl/wcdl/auth/keycloaktest"
)

func ExampleNewServer() {
	kc := keycloaktest.NewServer(keycloaktest.WithUser("ann", "s3cret"))
	defer kc.Close()
	for _, pw := range []string{"wrong", "s3cret"} {
		resp, err := http.PostForm(kc.TokenURL(), url.Values{
			"grant_type": {"password"}, "client_id": {keycloaktest.DefaultClient},
			"username": {"ann"}, "password": {pw},
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	st := kc.Stats()
	fmt.Println(st.PasswordGrants, st.FailedPasswordGrants, st.LiveSessions)
	// Output:
	// 401 Unauthorized
	// 200 OK
	// 1 1 1
}
