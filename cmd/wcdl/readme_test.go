package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeQuotesRealMessages runs the mistakes README.md's
// Troubleshooting section quotes, with the same names, and checks that
// each line wcdl prints is quoted there word for word.
func TestReadmeQuotesRealMessages(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "## Troubleshooting")
	section, _, _ = strings.Cut(section, "\n## ")
	quoted := regexp.MustCompile(`\s+`).ReplaceAllString(section, " ")

	svc := newServices(t)
	t.Chdir(t.TempDir())
	write := func(name, body string) {
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tiles", "not a folder\n")
	write("tiles.txt", "\xff\xfeN\x000\x000\x00E\x000\x000\x006\x00\n\x00")
	write("ok.txt", "N00E006\n")
	write("three.txt", "N00E006\nN00E009\nN00E012\n")
	write("empty.txt", "# nothing yet\n")
	write("mercator.geojson", `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3857"}},"features":[]}`)
	misspelt := creds()
	misspelt["WCDL_WORKRS"] = "8"
	wrong := map[string]string{"WCDL_USERNAME": testUser, "WCDL_PASSWORD": "wrong-" + testPassword}
	tests := []struct {
		env  map[string]string
		args []string
		line string // the line of stderr that must be quoted, by its start
	}{
		{creds(), []string{"-m", "ok.txt", "-o", "tiles"}, "wcdl: output folder"},
		{creds(), []string{"-m", "ok.txt", "-o", "out", "--report", filepath.Join("reports", "run.json")}, "wcdl: --report"},
		{creds(), []string{"-m", "tiles.txt", "-o", "out"}, "tiles.txt: the manifest is"},
		{creds(), []string{"--worker", "3"}, "wcdl: usage: unknown flag"},
		{creds(), []string{"-worker=8"}, "wcdl: usage: unknown flag"},
		{misspelt, []string{"-m", "empty.txt", "--dry-run"}, "wcdl: warning: WCDL_WORKRS"},
		{creds(), []string{"--bbox", "-180,-90,180,90", "--dry-run"}, "wcdl: warning: bbox"},
		{creds(), []string{"--aoi", "mercator.geojson", "--dry-run"}, "--aoi: mercator.geojson"},
		{creds(), []string{"--bbox", "10,0,-10,1", "--dry-run"}, "wcdl: warning: bbox"},
		{creds(), []string{"-m", "empty.txt", "-o", "out"}, "wcdl: warning: the plan is empty"},
		{creds(), []string{"-m", "three.txt", "-o", "out", "--shard", "3/4", "--dry-run"}, "wcdl: warning: shard"},
		{wrong, []string{"-m", "ok.txt", "-o", "out"}, "wcdl: login failed"},
		{map[string]string{"WCDL_TOKEN": "a-token-the-service-refuses"}, []string{"-m", "ok.txt", "-o", "out"}, "wcdl: the batch was stopped: the service refused"},
	}
	for _, tt := range tests {
		res := runWCDL(t, t.Context(), tt.env, "", nil, svc.args(tt.args...)...)
		var line string
		for _, l := range strings.Split(res.stderr, "\n") {
			if strings.HasPrefix(l, tt.line) {
				line = l
				break
			}
		}
		if line == "" {
			t.Errorf("wcdl %s: no line starting %q in stderr:\n%s", strings.Join(tt.args, " "), tt.line, res.stderr)
			continue
		}
		if !strings.Contains(quoted, line) {
			t.Errorf("README.md's Troubleshooting does not quote what wcdl prints:\n%s", line)
		}
	}
}
