package main

import (
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
		terrascopetest.WithLandMask(true),
	)
	return &simulator{kc: kc, ts: ts}
}

// Close stops both services.
func (s *simulator) Close() {
	s.ts.Close()
	s.kc.Close()
}
