package main

import (
	"crypto/tls"
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
}

// startSimulator starts both services. Tokens live a short time, so that a
// longer demo run shows refreshes.
func startSimulator() *simulator {
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
		terrascopetest.WithTLS(nil), // as the real service: TLS, HTTP/2 offered
	)
	return &simulator{kc: kc, ts: ts}
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
