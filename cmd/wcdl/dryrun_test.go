package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDryRunReport: --dry-run --report FILE writes the plan as a report,
// every entry "planned", asking for no token; --report - is refused, since
// the plan is on standard output already.
func TestDryRunReport(t *testing.T) {
	svc := newServices(t)
	dir := t.TempDir()
	rep := filepath.Join(dir, "plan.json")
	out := filepath.Join(dir, "out")
	m := writeManifest(t, "N00E006", "N00E009")
	res := runWCDL(t, t.Context(), map[string]string{}, "", nil, svc.args("--dry-run", "-m", m, "-o", out, "--report", rep)...)
	if res.code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	r := readReport(t, rep)
	if r.Summary.Entries != 2 || r.Summary.Planned != 2 || r.Summary.Downloaded != 0 || !r.Options.DryRun || r.ExitCode != exitOK {
		t.Errorf("report summary %+v, dry_run %v, exit %d; want 2 entries, 2 planned, dry_run, exit 0", r.Summary, r.Options.DryRun, r.ExitCode)
	}
	for i, e := range r.Entries {
		if e.Status != "planned" || e.Source != m+":"+[]string{"1", "2"}[i] || !strings.HasPrefix(e.URL, svc.ts.URL()+"/") || filepath.Dir(e.Path) != out {
			t.Errorf("entry %d: %+v, want planned, from %s, a URL of the service and a path in %s", i, e, m, out)
		}
	}
	if n := svc.kc.Stats().Received; n != 0 {
		t.Errorf("%d token requests, want none", n)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the output folder was created (stat: %v)", err)
	}

	res = runWCDL(t, t.Context(), map[string]string{}, "", nil, svc.args("--dry-run", "-m", m, "--report", "-")...)
	if want := "--dry-run and --report - both write to standard output"; res.code != exitUsage || !strings.Contains(res.stderr, want) || res.stdout != "" {
		t.Errorf("--dry-run --report -: exit %d, stdout %q, stderr %q; want exit 2 saying %q and nothing on stdout", res.code, res.stdout, res.stderr, want)
	}
}
