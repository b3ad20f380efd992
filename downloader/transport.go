package downloader

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// NewTransport returns the transport file transfers are meant to go
// through: HTTP/1.1 only, over TLS or not, with at most workers connections
// per host.
//
// HTTP/1.1 gives each transfer a TCP connection of its own, which is what
// -w N promises: a long path, a lossy link or a server's per-connection
// ceiling bounds each connection, not each request, and an HTTP/2 client
// multiplexes every worker onto one connection, so that N workers get the
// throughput of one. HTTP/2 gains nothing back for a few large files (no
// header compression worth having, no head-of-line blocking to avoid
// between requests that each fill a connection), and Go's HTTP/1.1 path
// costs less CPU per byte than its HTTP/2 framing and flow control.
//
// tlsConfig, if not nil, is used for TLS (to trust another CA, say); its
// NextProtos are ignored.
func NewTransport(workers int, tlsConfig *tls.Config) *http.Transport {
	workers = max(workers, 1)
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          2 * workers,
		MaxIdleConnsPerHost:   workers,
		MaxConnsPerHost:       workers,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		ExpectContinueTimeout: time.Second,
		// Files are fetched byte for byte: a transparent gzip would break
		// Content-Length checks and Range resumes.
		DisableCompression: true,
		ReadBufferSize:     128 << 10,
	}
	if tlsConfig != nil {
		t.TLSClientConfig = tlsConfig.Clone()
		t.TLSClientConfig.NextProtos = nil
	}
	var p http.Protocols
	p.SetHTTP1(true)
	t.Protocols = &p
	return t
}
