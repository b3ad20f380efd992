package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/wcdl/wcdl/auth/keycloaktest"
	"github.com/wcdl/wcdl/downloader"
	"github.com/wcdl/wcdl/downloader/terrascopetest"
	"github.com/wcdl/wcdl/manifest"
)

// evil is what a hostile server puts in what it says: an escape sequence
// that clears the screen, one that colours, an 8-bit CSI (C1) and a
// right-to-left override.
const evil = "\x1b[2J\x1b[31mEVIL\u009b0m\u202eLIVE"

// rawServer answers every request with a status line of its own making,
// which net/http would not write: the reason phrase is the server's.
func rawServer(t *testing.T, code int, reason, header, body string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Length: %d\r\nConnection: close\r\n%s\r\n%s", code, reason, len(body), header, body)
		buf.Flush()
	}))
	t.Cleanup(s.Close)
	return s
}

// discoveryServer serves an OpenID discovery document at its own URL as
// issuer, with the fields doc returns (issuer added unless doc sets it).
func discoveryServer(t *testing.T, doc func(issuer string) map[string]string) *httptest.Server {
	t.Helper()
	var s *httptest.Server
	s = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		d := doc(s.URL)
		if _, ok := d["issuer"]; !ok {
			d["issuer"] = s.URL
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(d)
	}))
	t.Cleanup(s.Close)
	return s
}

// hiddenAt returns the index of the first character in s, newlines
// aside, that a terminal acts on instead of showing: a C0 or C1 control,
// DEL, or a format character such as a bidirectional override; -1 if none.
func hiddenAt(s string) int {
	return strings.IndexFunc(s, func(r rune) bool {
		return r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029')
	})
}

// TestRunServerTextShownAsText makes servers put escape sequences in every
// kind of text wcdl may print or log: a reason phrase from the download
// service, the error and error_description of a token endpoint, the
// fields of a discovery document, a reason phrase from the grid's server.
// wcdl's output, in both log formats and at -v, holds none of them, and
// still says what the server said.
func TestRunServerTextShownAsText(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // no cached grid to fall back on
	tests := []struct {
		name     string
		args     func(t *testing.T) []string
		wantCode int
		want     string // in stderr, with EVIL
	}{
		{
			name: "download reason phrase",
			args: func(t *testing.T) []string {
				kc := keycloaktest.NewServer(keycloaktest.WithUser(testUser, testPassword))
				t.Cleanup(kc.Close)
				svc := rawServer(t, http.StatusUnauthorized, evil, "WWW-Authenticate: Bearer\r\n", "")
				return []string{"--token-url", kc.TokenURL(), "--client-id", keycloaktest.DefaultClient, "--base-url", svc.URL,
					"-m", writeManifest(t, "N00E006"), "-o", t.TempDir(), "-w", "1"}
			},
			wantCode: exitAuth,
			want:     "answered 401",
		},
		{
			name: "token endpoint error and description",
			args: func(t *testing.T) []string {
				body, _ := json.Marshal(map[string]string{"error": "invalid_grant" + evil, "error_description": "Invalid " + evil + " credentials"})
				tok := rawServer(t, http.StatusBadRequest, "Bad Request", "Content-Type: application/json\r\n", string(body))
				ts := terrascopetest.NewServer(nil)
				t.Cleanup(ts.Close)
				return []string{"--token-url", tok.URL + "/realms/r/protocol/openid-connect/token", "--client-id", "c", "--base-url", ts.URL(),
					"-m", writeManifest(t, "N00E006"), "-o", t.TempDir()}
			},
			wantCode: exitAuth,
			want:     "EVIL",
		},
		{
			name: "discovery document endpoints",
			args: func(t *testing.T) []string {
				svc := newServices(t)
				d := discoveryServer(t, func(string) map[string]string {
					return map[string]string{
						"token_endpoint":       svc.kc.TokenURL(),
						"revocation_endpoint":  svc.kc.URL() + "/revoke/\u202eEVIL\u009b0m",
						"end_session_endpoint": svc.kc.URL() + "/logout/\u2066EVIL\u2069",
					}
				})
				return []string{"--issuer", d.URL, "--client-id", keycloaktest.DefaultClient, "--base-url", svc.ts.URL(),
					"-m", writeManifest(t, "N00E006"), "-o", t.TempDir()}
			},
			wantCode: exitOK,
			want:     "discovery document read",
		},
		{
			name: "discovery document issuer",
			args: func(t *testing.T) []string {
				svc := newServices(t)
				d := discoveryServer(t, func(string) map[string]string {
					return map[string]string{"issuer": "https://sso.example/" + evil, "token_endpoint": svc.kc.TokenURL()}
				})
				return []string{"--issuer", d.URL, "--client-id", keycloaktest.DefaultClient, "--base-url", svc.ts.URL(),
					"-m", writeManifest(t, "N00E006"), "-o", t.TempDir()}
			},
			wantCode: exitUsage,
			want:     "names issuer",
		},
		{
			name: "grid reason phrase",
			args: func(t *testing.T) []string {
				grid := rawServer(t, http.StatusServiceUnavailable, evil, "", "")
				return []string{"--dry-run", "--bbox", "6,0,7,1", "--grid", grid.URL + "/grid.geojson", "--base-url", "https://h.example"}
			},
			wantCode: exitUsage,
			want:     "HTTP 503",
		},
	}
	for _, tt := range tests {
		for _, format := range []string{"text", "json"} {
			t.Run(tt.name+", "+format, func(t *testing.T) {
				args := append(tt.args(t), "-v", "--log-format", format)
				res := runWCDL(t, t.Context(), creds(), "", nil, args...)
				if res.code != tt.wantCode {
					t.Errorf("exit code %d, want %d; stderr:\n%s", res.code, tt.wantCode, res.stderr)
				}
				for name, out := range map[string]string{"stdout": res.stdout, "stderr": res.stderr} {
					if i := hiddenAt(out); i >= 0 {
						t.Errorf("%s holds a control or format character at byte %d:\n%q", name, i, out[max(i-80, 0):min(i+80, len(out))])
					}
				}
				for _, want := range []string{tt.want, "EVIL"} {
					if !strings.Contains(res.stderr, want) {
						t.Errorf("stderr lacks %q: the server's words must still be told; stderr:\n%s", want, res.stderr)
					}
				}
			})
		}
	}
}

// TestRunVerboseLogsNoQuery runs wcdl at -v with a secret in the query of
// every URL it may log: the token, revocation and logout endpoints of a
// discovery document, the grid URL, a manifest URL, and the Location of
// a redirect. No output and no report holds it, in either log format.
func TestRunVerboseLogsNoQuery(t *testing.T) {
	const secret = "Q-5ecret-7d1e"
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			svc := newServices(t, terrascopetest.WithLandMask(true))
			d := discoveryServer(t, func(string) map[string]string {
				return map[string]string{
					"token_endpoint":       svc.kc.TokenURL() + "?api_key=" + secret,
					"revocation_endpoint":  svc.kc.URL() + "/revoke?api_key=" + secret,
					"end_session_endpoint": svc.kc.LogoutURL() + "?api_key=" + secret,
				}
			})
			tile := "/WORLDCOVER/ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_N00E006_Map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif"
			hop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, svc.ts.URL()+tile+"?X-Amz-Signature="+secret, http.StatusFound)
			}))
			t.Cleanup(hop.Close)
			m := writeManifest(t, hop.URL+"/moved.tif?token="+secret, "N51E003")
			rep := filepath.Join(t.TempDir(), "report.json")
			res := runWCDL(t, t.Context(), creds(), "", nil, "--issuer", d.URL, "--client-id", keycloaktest.DefaultClient,
				"--base-url", svc.ts.URL(), "--grid", svc.ts.GridURL()+"?sig="+secret, "-m", m, "-o", t.TempDir(),
				"--report", rep, "-v", "--log-format", format)
			if res.code != exitOK {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitOK, res.stderr)
			}
			report, err := os.ReadFile(rep)
			if err != nil {
				t.Fatal(err)
			}
			for name, out := range map[string]string{"stdout": res.stdout, "stderr": res.stderr, "report": string(report)} {
				if strings.Contains(out, secret) {
					t.Errorf("%s holds a URL's secret query:\n%s", name, out)
				}
			}
			// The endpoints are logged, without their query.
			if want := "/protocol/openid-connect/token?…"; !strings.Contains(res.stderr, want) {
				t.Errorf("stderr lacks %q; stderr:\n%s", want, res.stderr)
			}
		})
	}
}

// TestConsoleShowsText: whatever wcdl prints goes through package shown
// at the console, in both formats: a server's words that reached a
// message unescaped are escaped there, and a URL's query is cut.
func TestConsoleShowsText(t *testing.T) {
	const secret = "Q-5ecret-c0n5"
	msg := "the service said " + evil + " at https://h.example/x?sig=" + secret
	r := downloader.Result{Entry: manifest.Entry{Name: "x.tif", Raw: "x.tif"}, Status: downloader.Failed, Err: errors.New(msg)}
	for _, jsonFormat := range []bool{false, true} {
		var b strings.Builder
		c := newConsole(&b, jsonFormat)
		c.errorf(msg, "%s", msg)
		c.warn(msg)
		c.say(slog.LevelInfo, msg)
		c.result(r, downloader.Progress{})
		out := b.String()
		if i := hiddenAt(out); i >= 0 {
			t.Errorf("json %v: a control or format character at byte %d:\n%q", jsonFormat, i, out)
		}
		if strings.Contains(out, secret) {
			t.Errorf("json %v: a URL's query is shown:\n%s", jsonFormat, out)
		}
		if n := strings.Count(out, "EVIL"); n != 5 {
			t.Errorf("json %v: the message is told %d times, want 5:\n%s", jsonFormat, n, out)
		}
	}
}
