package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/wcdl/wcdl/auth"
)

// discoveryTimeout bounds the wait for a provider's discovery document.
const discoveryTimeout = 15 * time.Second

// discover reads the provider's discovery document and returns how to end
// the session at exit; with --issuer and no --token-url it also sets the
// token URL. The issuer is --issuer, else the realm of a Keycloak token
// URL. Without an issuer, or when a derived issuer's document cannot be
// read, it returns nil: the provider then keeps Keycloak's logout for a
// Keycloak token URL and ends no session elsewhere. A document that
// --issuer names must be readable.
func discover(ctx context.Context, o *options, preset *auth.Preset, log *slog.Logger) (*auth.SessionEnd, error) {
	issuer := o.issuer
	if issuer == "" {
		issuer = auth.KeycloakIssuer(preset.TokenURL)
	}
	if issuer == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	d, err := auth.Discover(ctx, nil, issuer)
	switch {
	case err != nil && o.issuer != "":
		return nil, fmt.Errorf("--issuer: %w", err)
	case err != nil:
		log.Debug("no discovery document; ending the session as Keycloak does", "err", err)
		return nil, nil
	}
	if o.issuer != "" && o.tokenURL == "" {
		if d.TokenEndpoint == "" {
			return nil, fmt.Errorf("--issuer: the discovery document of %s names no token_endpoint: pass --token-url", issuer)
		}
		preset.TokenURL = d.TokenEndpoint
	}
	log.Debug("discovery document read", "issuer", issuer, "token_endpoint", d.TokenEndpoint,
		"revocation_endpoint", d.RevocationEndpoint, "end_session_endpoint", d.EndSessionEndpoint)
	return d.SessionEnd(preset.TokenURL), nil
}
