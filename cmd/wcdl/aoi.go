package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/wcdl/wcdl/manifest"
)

// Areas of interest (--aoi) and the GeoJSON plan (--plan-format geojson);
// the tile grid (--grid, --strict) is in grid.go.

// checkAOI checks --plan-format and the inputs of --aoi and --grid; check
// calls it.
func (o *options) checkAOI() error {
	switch o.planFormat {
	case "text", "geojson":
	default:
		return usageError("--plan-format must be text or geojson, not %q", o.planFormat)
	}
	if o.planFormat != "text" && !o.dryRun {
		return usageError("--plan-format %s needs --dry-run: it writes the plan instead of downloading", o.planFormat)
	}
	stdins := 0
	for _, in := range slices.Concat(o.manifests, o.aois, []string{o.passwordFile}) {
		if in == "-" {
			stdins++
		}
	}
	if slices.Contains(o.aois, "-") && stdins > 1 {
		return usageError("standard input (-) can hold only one of the manifests, areas of interest and the password")
	}
	if o.dryRun && o.report == "-" {
		return usageError("--dry-run and --report - both write to standard output: give the report a file, --report FILE")
	}
	if o.grid == "-" {
		return usageError("--grid takes a file or an http(s) URL, not standard input")
	}
	return nil
}

// parseAOIs reads every --aoi file, keeping going after a bad one so that
// one run reports every problem.
// An area that selects no tile is only warned about: other inputs may
// still select some. An interrupt (the end of ctx) stops at once.
func (c *command) parseAOIs(ctx context.Context, o *options, mo manifest.Options, con *console) (groups [][]manifest.Entry, errs []error) {
	if !o.quiet {
		mo.Warn = func(msg string) { con.warn(msg) }
	}
	for _, name := range o.aois {
		var r io.Reader = c.stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				errs = append(errs, fmt.Errorf("--aoi: %w", err))
				continue
			}
			defer f.Close()
			r = f
		}
		entries, err := manifest.ParseAOI(ctx, r, name, mo)
		if ctx.Err() != nil {
			return groups, append(errs, fmt.Errorf("--aoi %s: %w", name, ctx.Err()))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("--aoi: %w", err))
			continue
		}
		if len(entries) == 0 && !o.quiet {
			why := "the grid runs from 60S to 84N; GeoJSON positions are [longitude, latitude]"
			if mo.Grid != nil {
				why += ", and --grid lists land tiles only"
			}
			con.warn(fmt.Sprintf("--aoi %s selects no tile: %s", name, why))
		}
		groups = append(groups, entries)
	}
	return groups, errs
}

// writePlanGeoJSON writes the plan for --dry-run --plan-format geojson.
func (c *command) writePlanGeoJSON(plan *manifest.Plan, con *console) int {
	skipped, err := plan.WriteGeoJSON(c.stdout)
	if err != nil {
		con.errorf("", "writing the plan: %v", err)
		return exitFailed
	}
	if skipped > 0 {
		msg := fmt.Sprintf("%d entries are not WorldCover tiles: they have no place on the map and are left out of the GeoJSON plan", skipped)
		if skipped == 1 {
			msg = "1 entry is not a WorldCover tile: it has no place on the map and is left out of the GeoJSON plan"
		}
		con.warn(msg)
	}
	return exitOK
}
