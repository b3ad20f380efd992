package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/wcdl/wcdl/manifest"
)

// plan reads every manifest and the bounding box into one checked plan, and
// keeps this machine's shard of it.
func (c *command) plan(o *options, con *console) (*manifest.Plan, error) {
	years, err := manifest.ParseYears(o.years)
	if err != nil {
		return nil, fmt.Errorf("--year: %w", err)
	}
	layers, err := manifest.ParseLayers(o.layers)
	if err != nil {
		return nil, fmt.Errorf("--layer: %w", err)
	}
	mo := manifest.Options{Years: years, Layers: layers, BaseURL: o.baseURL}
	var (
		groups [][]manifest.Entry
		errs   []error
	)
	// Parse everything, keeping the good entries of bad files too, so that
	// one run reports every error: bad lines, then duplicates and
	// collisions between the good ones.
	for _, name := range o.manifests {
		entries, err := c.parseManifest(name, mo)
		if err != nil {
			errs = append(errs, err)
		}
		groups = append(groups, entries)
	}
	if o.bbox != "" {
		entries, err := manifest.ParseBBox(o.bbox, mo)
		if err != nil {
			errs = append(errs, fmt.Errorf("--bbox: %w", err))
		}
		groups = append(groups, entries)
	}
	plan, err := manifest.NewPlan(groups...)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("nothing was downloaded, the manifest has errors:\n%w", errors.Join(errs...))
	}
	if !o.quiet {
		for _, w := range plan.Warnings {
			con.warn(w)
		}
	}
	if o.shard != "" {
		k, n, err := manifest.ParseShard(o.shard)
		if err != nil {
			return nil, fmt.Errorf("--shard: %w", err)
		}
		plan = plan.Shard(k, n)
	}
	return plan, nil
}

// parseManifest parses one manifest file, or standard input for "-".
func (c *command) parseManifest(name string, mo manifest.Options) ([]manifest.Entry, error) {
	if name == "-" {
		return manifest.Parse(c.stdin, "-", mo)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return manifest.Parse(f, name, mo)
}
