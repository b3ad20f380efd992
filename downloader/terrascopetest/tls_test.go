package terrascopetest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestTLSServesHTTP2(t *testing.T) {
	s := newServer(t, nil, WithTLS(nil), WithFileSize(64<<10), WithConnBandwidth(1<<30)) // the cap's path, not its speed
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("URL() = %s, want https", s.URL())
	}
	resp, err := s.Client().Get(s.URL() + "/a.bin")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("protocol %s, want HTTP/2", resp.Proto)
	}
	want := make([]byte, s.Size("a.bin"))
	s.Content("a.bin").ReadAt(want, 0)
	if !bytes.Equal(body, want) {
		t.Errorf("got %d bytes not equal to the content", len(body))
	}

	// The CA's PEM alone is enough to trust the server, as SSL_CERT_FILE does.
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CA().CertPEM) {
		t.Fatal("CertPEM holds no certificate")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}} // HTTP/1.1 only
	resp, err = (&http.Client{Transport: tr}).Get(s.URL() + "/a.bin")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	tr.CloseIdleConnections()
	if resp.ProtoMajor != 1 {
		t.Errorf("protocol %s, want HTTP/1.1 from a client without h2", resp.Proto)
	}
	if got := s.Stats().Connections; got != 2 {
		t.Errorf("Connections = %d, want 2", got)
	}

	// A client that does not trust the CA is refused.
	if _, err := http.Get(s.URL() + "/a.bin"); err == nil {
		t.Error("a client without the CA connected")
	}
}

func TestMaxInFlight(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		name := "http"
		opts := []Option{WithFileSize(64 << 20), WithMaxInFlight(2, 0)}
		if tlsOn {
			name = "https h2"
			opts = append(opts, WithTLS(nil))
		}
		t.Run(name, func(t *testing.T) {
			s := newServer(t, nil, opts...)
			c := s.Client()
			// Two downloads whose bodies are not read stay in flight.
			var open []*http.Response
			for i := range 2 {
				resp, err := c.Get(s.URL() + "/held" + string(rune('a'+i)))
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("download %d: %s, want 200", i, resp.Status)
				}
				open = append(open, resp)
			}
			resp, err := c.Get(s.URL() + "/third")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "Max session number 2 exceeded") {
				t.Errorf("third download: %s %q, want 429 Max session number 2 exceeded", resp.Status, body)
			}
			if resp.Header.Get("Retry-After") != "" {
				t.Errorf("Retry-After %q, want none", resp.Header.Get("Retry-After"))
			}
			// Reading one body to its end frees its place at once.
			io.Copy(io.Discard, open[0].Body)
			open[0].Body.Close()
			resp, err = c.Get(s.URL() + "/fourth")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Errorf("download after one ended: %s, want 200", resp.Status)
			}
			resp.Body.Close()
			open[1].Body.Close()
			<-s.WaitFor(func(st Stats) bool { return st.InFlight == 0 })
			st := s.Stats()
			if st.MaxInFlight != 2 || st.CapRejections != 1 {
				t.Errorf("MaxInFlight %d CapRejections %d, want 2 1", st.MaxInFlight, st.CapRejections)
			}
		})
	}
}
