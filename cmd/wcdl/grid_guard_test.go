package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wcdl/wcdl/downloader/hostiletest"
	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// A grid URL that redirects to another host: the target sees no Referer,
// no Authorization and nothing of the signed query.
func TestRunGridRedirectLeaksNothing(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	const secret = "S1GNATUR3"
	target := hostiletest.New(terrascopetest.GridGeoJSON())
	t.Cleanup(target.Close)
	hop := hostiletest.New(nil, hostiletest.WithRedirect(target.URL+"/grid.geojson"))
	t.Cleanup(hop.Close)
	res := runWCDL(t, t.Context(), map[string]string{}, "", nil, "--dry-run", "--bbox", "0,0,1,1",
		"--grid", hop.URL+"/grid.geojson?sig="+secret)
	if res.code != exitOK {
		t.Fatalf("exit %d, want %d; stderr:\n%s", res.code, exitOK, res.stderr)
	}
	seen, uris := target.Seen(), target.SeenURIs()
	if len(seen) != 1 {
		t.Fatalf("the redirect target got %d requests, want 1", len(seen))
	}
	if got := seen[0].Values("Referer"); len(got) != 0 {
		t.Errorf("Referer = %q, want none", got)
	}
	if got := seen[0].Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none", got)
	}
	for k, vs := range seen[0] {
		for _, v := range vs {
			if strings.Contains(v, secret) {
				t.Errorf("header %s: %q holds the signed query", k, v)
			}
		}
	}
	if strings.Contains(uris[0], secret) {
		t.Errorf("request target %q holds the signed query", uris[0])
	}
}

// A grid server whose body stops after a few bytes, on a 200 or on a
// redirect's body that net/http drains: the fetch is cut after
// --stall-timeout, not after the grid's own two minutes.
func TestRunGridStalledBody(t *testing.T) {
	grid := terrascopetest.GridGeoJSON()
	good := hostiletest.New(grid)
	t.Cleanup(good.Close)
	tests := []struct {
		name     string
		opts     []hostiletest.Option
		wantCode int
		wantErr  string
	}{
		{name: "200", opts: []hostiletest.Option{hostiletest.WithStallAfter(10)}, wantCode: exitUsage, wantErr: "stalled"},
		{name: "302 to a good server", opts: []hostiletest.Option{hostiletest.WithRedirect(good.URL + "/grid.geojson"), hostiletest.WithStallAfter(10)},
			wantCode: exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", t.TempDir())
			s := hostiletest.New(grid, tt.opts...)
			t.Cleanup(s.Close)
			// Only a guard against a hang: the run must end long before.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			res := runWCDL(t, ctx, map[string]string{}, "", nil, "--dry-run", "--bbox", "0,0,1,1",
				"--stall-timeout", "100ms", "--grid", s.URL+"/grid.geojson")
			if ctx.Err() != nil {
				t.Fatalf("the run ended only when its context did: a stalled body was waited for; stderr:\n%s", res.stderr)
			}
			if res.code != tt.wantCode || !strings.Contains(res.stderr, tt.wantErr) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", res.code, res.stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}
