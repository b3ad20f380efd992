package source

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/wcdl/wcdl/manifest"
)

// Credential is what a source needs before it serves a file.
type Credential string

// The credentials sources need.
const (
	// None: anonymous, public objects.
	None Credential = ""
	// Keycloak: a bearer token from a Keycloak login (Terrascope).
	Keycloak Credential = "keycloak"
	// SAS: a shared access signature per storage account and container,
	// added as the URL's query (the Planetary Computer).
	SAS Credential = "sas"
)

// A Source is one place that serves WorldCover products.
type Source struct {
	// Name is the source's name on the command line: terrascope, aws or pc.
	Name string
	// Root is the download root the product paths are joined to, without
	// a trailing slash.
	Root string
	// Credential is what the source asks for.
	Credential Credential
	// layout builds the path of a product under Root.
	layout func(product string) (string, error)
}

// The sources wcdl knows, by name.
var known = []Source{
	{Name: "terrascope", Root: manifest.DefaultBaseURL, Credential: Keycloak, layout: manifest.ProductPath},
	{Name: "aws", Root: "https://esa-worldcover.s3.eu-central-1.amazonaws.com", Credential: None, layout: bucketPath},
	{Name: "pc", Root: "https://ai4edataeuwest.blob.core.windows.net/esa-worldcover", Credential: SAS, layout: bucketPath},
}

// Names lists the known sources, for messages.
func Names() []string {
	names := make([]string, len(known))
	for i, s := range known {
		names[i] = s.Name
	}
	return names
}

// Lookup returns the source called name, with its default root.
func Lookup(name string) (Source, error) {
	for _, s := range known {
		if s.Name == name {
			return s, nil
		}
	}
	return Source{}, fmt.Errorf("%w %q: want one of %s", ErrUnknown, name, strings.Join(Names(), ", "))
}

// Anonymous reports whether the source serves files to anyone.
func (s Source) Anonymous() bool { return s.Credential == None }

// URL returns the URL of the WorldCover product named product (as in
// manifest.Entry.Product) at this source.
func (s Source) URL(product string) (string, error) {
	p, err := s.layout(product)
	if err != nil {
		return "", err
	}
	return s.Root + "/" + p, nil
}

// GridURL returns the URL of ESA's grid file at this source, or "" if the
// source does not publish it.
func (s Source) GridURL() string {
	if s.Name == "aws" {
		return s.Root + "/esa_worldcover_grid.geojson"
	}
	return ""
}

// bucketPath is the layout of ESA's bucket, which the Planetary Computer's
// container repeats: {version}/{year}/{map|input_quality}/{file}.
func bucketPath(product string) (string, error) {
	// ESA_WorldCover_10m_{year}_{version}_{tile}_{layer}; the manifest
	// checked it, but a product from elsewhere is checked again.
	if _, err := manifest.ProductPath(product); err != nil {
		return "", err
	}
	parts := strings.Split(product, "_")
	year, version, layer := parts[3], strings.ToLower(parts[4]), "map"
	if strings.EqualFold(parts[6], "InputQuality") {
		layer = "input_quality"
	}
	return version + "/" + year + "/" + layer + "/" + product + ".tif", nil
}

// WithRoot returns s with its download root replaced by root.
func (s Source) WithRoot(root string) (Source, error) {
	u, err := url.Parse(root)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return s, fmt.Errorf("%s root %q: %w", s.Name, redactRoot(root), ErrBadRoot)
	}
	s.Root = strings.TrimRight(root, "/")
	return s, nil
}

// redactRoot is root without what may be a secret: user information and
// query.
func redactRoot(root string) string {
	if i := strings.IndexAny(root, "?#"); i >= 0 {
		root = root[:i] + "?..."
	}
	if i := strings.Index(root, "@"); i >= 0 {
		if j := strings.Index(root, "://"); j >= 0 && j < i {
			root = root[:j+3] + "..." + root[i:]
		}
	}
	return root
}
