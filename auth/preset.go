package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Kinds of Preset.
const (
	// KindKeycloak logs in with the password grant at TokenURL.
	KindKeycloak = ""
	// KindSAS takes Azure Blob SAS tokens from the SAS token API rooted at
	// TokenURL (see SASSource); there is no login.
	KindSAS = "sas"
)

// A Preset names the token endpoint and public client of a known data
// provider.
type Preset struct {
	Name, TokenURL, ClientID, Scope string
	// Kind says how tokens are obtained: KindKeycloak or KindSAS.
	Kind string
	// AuthHosts are host patterns, beyond the download service's own
	// host, that the provider's downloads redirect to and that need the
	// token too.
	AuthHosts []string
}

// DefaultPreset is the preset used when none is named.
const DefaultPreset = "terrascope"

var presets = []Preset{
	{Name: "terrascope", TokenURL: "https://sso.terrascope.be/auth/realms/terrascope/protocol/openid-connect/token", ClientID: "public"},
	{Name: "maxar", TokenURL: "https://account.maxar.com/auth/realms/mds/protocol/openid-connect/token", ClientID: "mgp", Scope: "openid"},
	{Name: "cdse", TokenURL: "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token", ClientID: "cdse-public",
		AuthHosts: []string{"*.dataspace.copernicus.eu"}},
	{Name: "pc", Kind: KindSAS, TokenURL: DefaultSASTokenURL, AuthHosts: []string{"*" + BlobDomain}},
}

// PresetNames returns the names LookupPreset knows, in a stable order.
func PresetNames() []string {
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.Name
	}
	return names
}

// LookupPreset returns the preset called name, ignoring case. An empty
// name selects DefaultPreset.
func LookupPreset(name string) (Preset, error) {
	if name == "" {
		name = DefaultPreset
	}
	i := slices.IndexFunc(presets, func(p Preset) bool { return strings.EqualFold(p.Name, name) })
	if i < 0 {
		return Preset{}, fmt.Errorf("auth: unknown provider preset %q (known: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return presets[i], nil
}
