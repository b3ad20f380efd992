package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/wcdl/wcdl/manifest"
	"github.com/wcdl/wcdl/source"
)

// plan reads every manifest, the bounding box and the areas of interest
// into one checked plan, limited to the grid's tiles if --grid is given,
// and keeps this machine's shard of it.
func (c *command) plan(ctx context.Context, o *options, con *console) (*manifest.Plan, error) {
	years, err := manifest.ParseYears(o.years)
	if err != nil {
		return nil, fmt.Errorf("--year: %w", err)
	}
	layers, err := manifest.ParseLayers(o.layers)
	if err != nil {
		return nil, fmt.Errorf("--layer: %w", err)
	}
	grid, err := c.loadGrid(ctx, o, con)
	if err != nil {
		return nil, err
	}
	// Products are parsed as Terrascope's and bound to the chosen sources
	// once the plan is checked.
	mo := manifest.Options{Years: years, Layers: layers, Grid: grid}
	if ts, ok := source.Find(o.sources, "terrascope"); ok {
		mo.BaseURL = ts.Root
	}
	var (
		groups [][]manifest.Entry
		errs   []error
	)
	// Parse everything, keeping the good entries of bad files too, so that
	// one run reports every error: bad lines, then duplicates and
	// collisions between the good ones.
	stac := false
	for _, name := range o.manifests {
		entries, isSTAC, err := c.parseManifest(name, mo, o.assets)
		if err != nil {
			errs = append(errs, err)
		}
		stac = stac || isSTAC
		groups = append(groups, entries)
	}
	if len(o.assets) > 0 && !stac {
		errs = append(errs, fmt.Errorf("--asset %s: assets are chosen from STAC manifests (ItemCollections or Items), and no manifest given is one", o.assets[0]))
	}
	if o.bbox != "" {
		entries, err := manifest.ParseBBox(o.bbox, mo)
		if err != nil {
			errs = append(errs, fmt.Errorf("--bbox: %w", err))
		}
		groups = append(groups, entries)
	}
	aoiGroups, aoiErrs := c.parseAOIs(ctx, o, mo, con)
	groups, errs = append(groups, aoiGroups...), append(errs, aoiErrs...)
	plan, err := manifest.NewPlan(groups...)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("nothing was downloaded, the input has errors:\n%w", errors.Join(errs...))
	}
	if err := source.Bind(plan.Entries, o.sources); err != nil {
		return nil, err
	}
	warnings := plan.Warnings
	if o.bbox != "" {
		warnings = append(warnings, manifest.BBoxWarnings(o.bbox)...)
	}
	if err := checkGrid(o, grid, plan, con); err != nil {
		return nil, err
	}
	all := len(plan.Entries)
	if o.shard != "" {
		k, n, err := manifest.ParseShard(o.shard)
		if err != nil {
			return nil, fmt.Errorf("--shard: %w", err)
		}
		plan = plan.Shard(k, n)
	}
	switch {
	case all == 0:
		warnings = append(warnings, "the plan is empty: the manifests and the box select no file")
	case len(plan.Entries) == 0:
		noun := "entries"
		if all == 1 {
			noun = "entry"
		}
		warnings = append(warnings, fmt.Sprintf("shard %s is empty: the plan has %d %s", o.shard, all, noun))
	}
	if !o.quiet {
		for _, w := range warnings {
			con.warn(w)
		}
	}
	return plan, nil
}

// parseManifest parses one manifest file, or standard input for "-": a
// STAC ItemCollection or Item (JSON) for the assets --asset names, or
// manifest lines. stac reports which it was.
func (c *command) parseManifest(name string, mo manifest.Options, assets []string) (entries []manifest.Entry, stac bool, err error) {
	r := c.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, false, err
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReader(r)
	if head, _ := br.Peek(512); manifest.IsSTAC(head) {
		entries, err = manifest.ParseSTAC(br, name, assets)
		return entries, true, err
	}
	entries, err = manifest.Parse(br, name, mo)
	return entries, false, err
}
