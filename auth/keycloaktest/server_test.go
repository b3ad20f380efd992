package keycloaktest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// post sends a form to u and returns the status and decoded JSON body (nil
// for an empty or non-JSON body).
func post(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading answer: %v", err)
	}
	var m map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("answer is not JSON: %v", err)
		}
	}
	return resp.StatusCode, m
}

func passwordForm() url.Values {
	return url.Values{"grant_type": {"password"}, "client_id": {DefaultClient}, "username": {DefaultUser}, "password": {DefaultPassword}}
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {DefaultClient}, "refresh_token": {rt}}
}

func login(t *testing.T, s *Server) map[string]any {
	t.Helper()
	code, body := post(t, s.TokenURL(), passwordForm())
	if code != http.StatusOK {
		t.Fatalf("password grant: got status %d, want 200 (%v)", code, body)
	}
	return body
}

func TestTokenErrors(t *testing.T) {
	s := NewServer()
	defer s.Close()
	with := func(k, v string) url.Values {
		f := passwordForm()
		f.Set(k, v)
		return f
	}
	tests := []struct {
		name     string
		form     url.Values
		wantCode int
		wantErr  string
		wantDesc string
	}{
		{"wrong password", with("password", "nope"), 401, "invalid_grant", "Invalid user credentials"},
		{"unknown user", with("username", "mallory"), 401, "invalid_grant", "Invalid user credentials"},
		{"unknown client", with("client_id", "other"), 401, "invalid_client", "Invalid client or Invalid client credentials"},
		{"unsupported grant", with("grant_type", "client_credentials"), 400, "unsupported_grant_type", "Unsupported grant_type"},
		{"missing grant", with("grant_type", ""), 400, "invalid_request", "Missing form parameter: grant_type"},
		{"unknown refresh token", refreshForm("bogus"), 400, "invalid_grant", "Token is not active"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := post(t, s.TokenURL(), tt.form)
			if code != tt.wantCode || body["error"] != tt.wantErr || body["error_description"] != tt.wantDesc {
				t.Errorf("got %d %v, want %d error=%q error_description=%q", code, body, tt.wantCode, tt.wantErr, tt.wantDesc)
			}
		})
	}
	st := s.Stats()
	if st.FailedPasswordGrants != 3 || st.FailedRefreshGrants != 1 || st.PasswordGrants != 0 {
		t.Errorf("stats: got %+v, want 3 failed password grants and 1 failed refresh grant", st)
	}
}

func TestTokenMethodAndContentType(t *testing.T) {
	s := NewServer()
	defer s.Close()
	resp, err := http.Get(s.TokenURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: got %d, want 405", resp.StatusCode)
	}
	resp, err = http.Post(s.TokenURL(), "application/json", strings.NewReader(`{"grant_type":"password"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("JSON body: got %d, want 415", resp.StatusCode)
	}
	code, body := post(t, s.URL()+"/auth/realms/other/protocol/openid-connect/token", passwordForm())
	if code != http.StatusNotFound || body["error"] != "Realm does not exist" {
		t.Errorf("unknown realm: got %d %v, want 404 Realm does not exist", code, body)
	}
}

func TestPasswordGrantAnswer(t *testing.T) {
	s := NewServer(WithAccessLifetime(60*time.Second), WithRefreshLifetime(1800*time.Second))
	defer s.Close()
	resp, err := http.PostForm(s.TokenURL(), passwordForm())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", got)
	}
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"access_token", "expires_in", "not-before-policy", "refresh_expires_in", "refresh_token", "scope", "session_state", "token_type"}
	if !slices.Equal(keys, want) {
		t.Errorf("fields: got %v, want %v", keys, want)
	}
	if body["expires_in"] != 60.0 || body["refresh_expires_in"] != 1800.0 || body["token_type"] != "Bearer" ||
		body["scope"] != "profile email" || body["not-before-policy"] != 0.0 {
		t.Errorf("got %v, want expires_in 60, refresh_expires_in 1800, Bearer, scope \"profile email\"", body)
	}
	if at, _ := body["access_token"].(string); len(at) < 200 || !s.Valid(at) {
		t.Errorf("access token: got %d characters, valid %v; want a long valid token", len(at), s.Valid(at))
	}
	if st := s.Stats(); st.PasswordGrants != 1 || st.LiveSessions != 1 || st.TokenRequests() != 1 {
		t.Errorf("stats: got %+v, want one password grant and one live session", st)
	}

	f := passwordForm()
	f.Set("scope", "openid")
	if _, body := post(t, s.TokenURL(), f); body["scope"] != "openid" {
		t.Errorf("requested scope: got %v, want openid", body["scope"])
	}
}

func TestExpiryFollowsClock(t *testing.T) {
	clock := NewClock(time.Unix(1_700_000_000, 0))
	s := NewServer(WithClock(clock.Now), WithAccessLifetime(time.Minute), WithRefreshLifetime(time.Hour))
	defer s.Close()
	body := login(t, s)
	at, rt := body["access_token"].(string), body["refresh_token"].(string)
	clock.Advance(time.Minute - time.Nanosecond)
	if !s.Valid(at) {
		t.Errorf("access token invalid before its lifetime ended")
	}
	clock.Advance(time.Nanosecond)
	if s.Valid(at) {
		t.Errorf("access token still valid after its lifetime")
	}
	code, body := post(t, s.TokenURL(), refreshForm(rt))
	if code != http.StatusOK {
		t.Fatalf("refresh: got %d %v, want 200", code, body)
	}
	if !s.Valid(body["access_token"].(string)) {
		t.Errorf("refreshed access token is not valid")
	}
	clock.Advance(time.Hour)
	code, body = post(t, s.TokenURL(), refreshForm(rt))
	if code != http.StatusBadRequest || body["error_description"] != "Token is not active" {
		t.Errorf("expired refresh token: got %d %v, want 400 Token is not active", code, body)
	}
}

func TestRotation(t *testing.T) {
	for _, rotation := range []bool{false, true} {
		t.Run(map[bool]string{false: "off", true: "on"}[rotation], func(t *testing.T) {
			s := NewServer(WithRotation(rotation))
			defer s.Close()
			body := login(t, s)
			at, rt := body["access_token"].(string), body["refresh_token"].(string)
			if code, _ := post(t, s.TokenURL(), refreshForm(rt)); code != http.StatusOK {
				t.Fatalf("first refresh: got %d, want 200", code)
			}
			if got := s.Valid(at); got == rotation {
				t.Errorf("old access token valid: got %v, want %v", got, !rotation)
			}
			code, _ := post(t, s.TokenURL(), refreshForm(rt))
			if want := map[bool]int{false: 200, true: 400}[rotation]; code != want {
				t.Errorf("reused refresh token: got %d, want %d", code, want)
			}
		})
	}
}

func TestRevokeAccessKeepsRefresh(t *testing.T) {
	s := NewServer()
	defer s.Close()
	body := login(t, s)
	at, rt := body["access_token"].(string), body["refresh_token"].(string)
	s.RevokeAccess()
	if s.Valid(at) {
		t.Errorf("access token valid after RevokeAccess")
	}
	code, body := post(t, s.TokenURL(), refreshForm(rt))
	if code != 200 {
		t.Fatalf("refresh after RevokeAccess: got %d %v, want 200", code, body)
	}
	if !s.Valid(body["access_token"].(string)) {
		t.Errorf("access token from the refresh after RevokeAccess is not valid")
	}
}

func TestRevokeFailLogout(t *testing.T) {
	s := NewServer()
	defer s.Close()
	body := login(t, s)
	at, rt := body["access_token"].(string), body["refresh_token"].(string)
	s.RevokeAll()
	if s.Valid(at) {
		t.Errorf("access token valid after RevokeAll")
	}
	if code, body := post(t, s.TokenURL(), refreshForm(rt)); code != 400 || body["error"] != "invalid_grant" {
		t.Errorf("revoked refresh token: got %d %v, want 400 invalid_grant", code, body)
	}

	s.FailNext(2)
	for i := range 2 {
		if code, _ := post(t, s.TokenURL(), passwordForm()); code != http.StatusServiceUnavailable {
			t.Errorf("request %d after FailNext(2): got %d, want 503", i, code)
		}
	}
	body = login(t, s)
	if st := s.Stats(); st.LiveSessions != 2 || st.FailedPasswordGrants != 2 {
		t.Errorf("stats: got %+v, want 2 live sessions and 2 failed password grants", st)
	}

	logout := url.Values{"client_id": {DefaultClient}, "refresh_token": {body["refresh_token"].(string)}}
	if code, _ := post(t, s.LogoutURL(), logout); code != http.StatusNoContent {
		t.Errorf("logout: got %d, want 204", code)
	}
	if s.Valid(body["access_token"].(string)) {
		t.Errorf("access token valid after logout")
	}
	if st := s.Stats(); st.LiveSessions != 1 || st.Logouts != 1 {
		t.Errorf("stats after logout: got %+v, want 1 live session and 1 logout", st)
	}
	if code, _ := post(t, s.LogoutURL(), logout); code != http.StatusBadRequest {
		t.Errorf("second logout: got %d, want 400", code)
	}
}

func TestOptions(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(WithListener(l), WithRealm("mds"), WithClient("mgp"), WithUser("ann", "pw"), WithOmitExpiresIn(), WithRefreshLifetime(0))
	defer s.Close()
	if want := "http://" + l.Addr().String(); s.URL() != want {
		t.Errorf("URL: got %s, want %s", s.URL(), want)
	}
	if want := s.URL() + "/auth/realms/mds/protocol/openid-connect/token"; s.TokenURL() != want {
		t.Errorf("TokenURL: got %s, want %s", s.TokenURL(), want)
	}
	code, body := post(t, s.TokenURL(), url.Values{"grant_type": {"password"}, "client_id": {"mgp"}, "username": {"ann"}, "password": {"pw"}})
	if code != 200 {
		t.Fatalf("got %d %v, want 200", code, body)
	}
	if _, ok := body["expires_in"]; ok {
		t.Errorf("expires_in present with WithOmitExpiresIn")
	}
	if body["refresh_expires_in"] != 0.0 || body["refresh_token"] == "" {
		t.Errorf("got %v, want refresh_expires_in 0 and a refresh token", body)
	}

	resp, err := http.Get(s.LoginURL())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "kc-form-login") {
		t.Errorf("login page: got %d %q, want 200 with a login form", resp.StatusCode, page)
	}
}

func TestHoldAndWaitFor(t *testing.T) {
	s := NewServer()
	defer s.Close()
	release := s.Hold()
	done := make(chan int)
	go func() {
		resp, err := http.PostForm(s.TokenURL(), passwordForm())
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-s.WaitFor(func(st Stats) bool { return st.Received == 1 })
	if st := s.Stats(); st.PasswordGrants != 0 {
		t.Errorf("held request answered: %+v", st)
	}
	release()
	if code := <-done; code != 200 {
		t.Errorf("released request: got %d, want 200", code)
	}
	<-s.WaitFor(func(st Stats) bool { return st.PasswordGrants == 1 })
}
