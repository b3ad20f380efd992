package main

import (
	"fmt"
	"time"

	"github.com/wcdl/wcdl/downloader"
	"github.com/wcdl/wcdl/manifest"
)

// planned is the status a --dry-run report gives every entry: in the plan,
// not attempted.
const planned downloader.Status = "planned"

// dryRun prints the plan (--dry-run) as text or GeoJSON on standard
// output and, with --report FILE, writes a report whose entries are all
// "planned": the same document a run writes, so that a script can read the
// plan the way it reads a run's outcome. It asks for no token and creates
// no folder.
func (c *command) dryRun(o *options, plan *manifest.Plan, con *console) int {
	started := time.Now()
	if o.report != "" {
		if err := checkReport(o.report); err != nil {
			con.errorf("", "--report %s: %v", o.report, err)
			return exitUsage
		}
	}
	code := exitOK
	if o.planFormat == "geojson" {
		code = c.writePlanGeoJSON(plan, con)
	} else {
		for _, e := range plan.Entries {
			fmt.Fprintf(c.stdout, "%s\t%s\n", downloader.Redact(e.URL), outPath(o.out, e.Name))
		}
	}
	if o.report == "" {
		return code
	}
	results := make([]downloader.Result, len(plan.Entries))
	for i, e := range plan.Entries {
		results[i] = downloader.Result{Entry: e, Path: outPath(o.out, e.Name), Status: planned, Size: max(e.Size, 0)}
	}
	sum := summary{Entries: len(results), Planned: len(results)}
	rep := newReport(o, c.credentialUse(o), started, time.Now(), sum, code, results)
	if err := rep.write(o.report, c.stdout); err != nil {
		con.errorf("", "writing the report: %v", err)
		return exitFailed
	}
	return code
}
