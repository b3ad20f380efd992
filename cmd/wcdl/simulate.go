package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/wcdl/wcdl/auth/keycloaktest"
	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// The simulator's demo account. It exists only inside the simulator.
const (
	simUser     = "demo"
	simPassword = "demo-password"
	simClient   = "public"
)

// simulator is a Keycloak and a Terrascope download service on loopback,
// for trying wcdl without an account or a network.
type simulator struct {
	kc *keycloaktest.Server
	ts *terrascopetest.Server
	// portTaken: the download service is not on its usual port, so the
	// parts of an earlier simulation do not resume.
	portTaken bool
}

// simPort is the loopback port the simulated download service prefers.
// A part's resume metadata names the file's URL, port included: with the
// same port every time, an interrupted --simulate run resumes in the next
// one, as it would against the real service.
const simPort = 47321

// listenLoopback listens on port of 127.0.0.1, or on any free port when
// that one is taken (another simulation running); ok reports which.
func listenLoopback(port int) (l net.Listener, ok bool) {
	if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
		return l, true
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("wcdl: simulator: listening on a loopback port: %v", err))
	}
	return l, false
}

// startSimulator starts both services, the download service on port if it
// is free. Tokens live a short time, so that a longer demo run shows
// refreshes.
func startSimulator(port int) *simulator {
	l, ok := listenLoopback(port)
	kc := keycloaktest.NewServer(
		keycloaktest.WithUser(simUser, simPassword),
		keycloaktest.WithClient(simClient),
		keycloaktest.WithAccessLifetime(60*time.Second),
		keycloaktest.WithRefreshLifetime(30*time.Minute),
		keycloaktest.WithRotation(true),
	)
	ts := terrascopetest.NewServer(kc,
		terrascopetest.WithFileSize(4<<20),
		terrascopetest.WithLoginRedirect(kc.LoginURL()),
		terrascopetest.WithLandMask(true),
		terrascopetest.WithListener(l),
		terrascopetest.WithTLS(nil), // as the real service: TLS, HTTP/2 offered
	)
	return &simulator{kc: kc, ts: ts, portTaken: !ok}
}

// tlsConfig trusts the download service's throwaway CA; nil without a
// simulator.
func (s *simulator) tlsConfig() *tls.Config {
	if s == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.ts.CA().Pool}
}

// Close stops both services.
func (s *simulator) Close() {
	s.ts.Close()
	s.kc.Close()
}
