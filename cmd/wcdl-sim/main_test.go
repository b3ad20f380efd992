package main

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

func TestCAOutNeedsTLS(t *testing.T) {
	var stderr strings.Builder
	code := run(t.Context(), []string{"--ca-out", filepath.Join(t.TempDir(), "ca.pem")}, io.Discard, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "--ca-out needs --tls") {
		t.Errorf("exit %d, stderr %q; want 2 and a message naming --ca-out", code, stderr.String())
	}
}

// TestUnitFlagsRefused: --file-size, --bandwidth and --conn-bandwidth
// take sizes and rates as wcdl does, and a value that is none is refused
// with the flag named, before anything listens.
func TestUnitFlagsRefused(t *testing.T) {
	tests := []struct {
		flag, value, want string
	}{
		{"--file-size", "big", `invalid argument "big" for "--file-size" flag: "big" is not a size`},
		{"--bandwidth", "fast", `invalid argument "fast" for "--bandwidth" flag: "fast" is not a rate`},
		{"--conn-bandwidth", "-8M", `invalid argument "-8M" for "--conn-bandwidth" flag: "-8M" is not a rate`},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			var stderr strings.Builder
			code := run(t.Context(), []string{tt.flag, tt.value}, io.Discard, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
		})
	}
}

// TestTLSWithCAOut starts the simulator with --tls, trusts it through the CA
// file it writes, and downloads over HTTP/2 with the static token.
func TestTLSWithCAOut(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		code := run(ctx, []string{"--tls", "--ca-out", caFile, "--static-token", "tok", "--file-size", "4K",
			"--max-in-flight", "2", "--conn-bandwidth", "100M"}, pw, io.Discard)
		pw.Close()
		done <- code
	}()
	sc := bufio.NewScanner(pr)
	var base string
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "base_url="); ok {
			base = v
		}
		if strings.HasPrefix(sc.Text(), "username=") {
			break
		}
	}
	go io.Copy(io.Discard, pr) // the counters at the end
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("base_url %q, want https", base)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	req, _ := http.NewRequest(http.MethodGet, base+"/a.bin", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 || n != 4096 {
		t.Errorf("got %s over %s with %d bytes, want 200 over HTTP/2 with 4096", resp.Status, resp.Proto, n)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}

// TestBucket: the simulator's bucket serves a land tile, anonymously, with
// an MD5 ETag, and has no file for a sea tile.
func TestBucket(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		code := run(ctx, []string{"--file-size", "64KiB", "--bandwidth", "1G"}, pw, io.Discard)
		pw.Close()
		done <- code
	}()
	sc := bufio.NewScanner(pr)
	var bucket string
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "bucket_url="); ok {
			bucket = v
			break
		}
	}
	go io.Copy(io.Discard, pr) // the counters at the end
	tests := []struct {
		key  string
		want int
	}{
		{"v200/2021/map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif", http.StatusOK},
		{"v200/2021/map/ESA_WorldCover_10m_2021_v200_S60W180_Map.tif", http.StatusNotFound},
	}
	for _, tt := range tests {
		resp, err := http.Get(bucket + "/" + tt.key)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sum := md5.Sum(body)
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %s, want %d", tt.key, resp.Status, tt.want)
		} else if tt.want == http.StatusOK && (len(body) != 65536 || resp.Header.Get("ETag") != `"`+hex.EncodeToString(sum[:])+`"`) {
			t.Errorf("%s: %d bytes, ETag %s; want 65536 bytes and their MD5", tt.key, len(body), resp.Header.Get("ETag"))
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}

// TestBlobContainer: the simulator's blob container refuses a request
// without a SAS token, and serves a land tile, with its Content-MD5, to one
// from the simulator's token endpoint.
func TestBlobContainer(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		code := run(ctx, []string{"--file-size", "65536", "--sas-lifetime", "20s"}, pw, io.Discard)
		pw.Close()
		done <- code
	}()
	sc := bufio.NewScanner(pr)
	urls := map[string]string{}
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		urls[k] = v
		if k == "sas_url" {
			break
		}
	}
	go io.Copy(io.Discard, pr) // the counters at the end
	blob, sas := urls["blob_url"], urls["sas_url"]
	if blob == "" || sas == "" {
		t.Fatalf("blob_url %q, sas_url %q; want both", blob, sas)
	}
	// The container's URL names its account and container, emulator style.
	account, container := path.Base(path.Dir(blob)), path.Base(blob)
	resp, err := http.Get(sas + "/" + account + "/" + container)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		Expiry string `json:"msft:expiry"`
		Token  string `json:"token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.Token == "" {
		t.Fatalf("token endpoint: %s, %v; want a token", resp.Status, err)
	}
	tile := blob + "/v200/2021/map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif"
	tests := []struct {
		name, url string
		want      int
	}{
		{"no token", tile, http.StatusForbidden},
		{"token", tile + "?" + tok.Token, http.StatusOK},
		{"sea tile", blob + "/v200/2021/map/ESA_WorldCover_10m_2021_v200_S60W180_Map.tif?" + tok.Token, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			sum := md5.Sum(body)
			if resp.StatusCode != tt.want {
				t.Errorf("%s, want %d", resp.Status, tt.want)
			} else if tt.want == http.StatusOK && (len(body) != 65536 || resp.Header.Get("Content-MD5") != base64.StdEncoding.EncodeToString(sum[:])) {
				t.Errorf("%d bytes, Content-MD5 %s; want 65536 bytes and their MD5", len(body), resp.Header.Get("Content-MD5"))
			}
		})
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}
