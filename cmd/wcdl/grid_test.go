package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// A failing grid server: the cached copy is used with a warning; with no
// copy, the error names the URL without its query.
func TestFetchGridFallsBackToCache(t *testing.T) {
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write([]byte(`{"type":"FeatureCollection","features":[]}`))
	}))
	defer srv.Close()
	u := srv.URL + "/grid.geojson?token=s3cr3t"
	var logs bytes.Buffer
	log := func(msg string) { logs.WriteString(msg + "\n") }

	dir := t.TempDir()
	first, err := fetchGrid(t.Context(), srv.Client(), u, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	again, err := fetchGrid(t.Context(), srv.Client(), u, dir, log)
	if err != nil || !bytes.Equal(again, first) {
		t.Fatalf("with the server failing: %q, %v; want the cached copy", again, err)
	}
	if !strings.Contains(logs.String(), "using the cached copy") {
		t.Errorf("no warning about the cached copy in the log:\n%s", logs.String())
	}
	_, err = fetchGrid(t.Context(), srv.Client(), u, t.TempDir(), log)
	if err == nil || !strings.Contains(err.Error(), "502") || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("with no cached copy: error %v; want the status, without the URL's query", err)
	}
	if strings.Contains(logs.String(), "s3cr3t") {
		t.Errorf("the URL's query appears in the log:\n%s", logs.String())
	}
}

// An interrupt while the grid is being fetched ends the run at once, as
// an interrupt, not as bad input.
func TestRunInterruptedGridFetch(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	seen := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(seen)
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan result, 1)
	go func() {
		done <- runWCDL(t, ctx, map[string]string{}, "", nil, "--dry-run", "--bbox", "0,0,1,1", "--grid", srv.URL+"/grid.geojson")
	}()
	<-seen
	cancel()
	if res := <-done; res.code != exitInterrupted {
		t.Fatalf("exit %d, want %d; stderr:\n%s", res.code, exitInterrupted, res.stderr)
	}
}

// gridFile writes the simulator's stand-in grid to a file.
func gridFile(t *testing.T) string {
	return writeFile(t, "esa_worldcover_grid.geojson", string(terrascopetest.GridGeoJSON()))
}

// With the grid, a box over land and ocean asks only for the land tiles:
// no request ends in 404.
func TestRunGridSkipsOcean(t *testing.T) {
	svc := newServices(t, terrascopetest.WithLandMask(true))
	rep := filepath.Join(t.TempDir(), "report.json")
	// Ten cells around Fiji, across the antimeridian: rows S21 and S18,
	// columns E174 to W174. The stand-in mask has land in two of them.
	box := "174.5,-19.5,-171.5,-16.5"
	res := runWCDL(t, t.Context(), creds(), "", nil, svc.args("--bbox", box, "--grid", gridFile(t), "-o", t.TempDir(), "--report", rep)...)
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
	r := readReport(t, rep)
	var got []string
	for _, e := range r.Entries {
		got = append(got, strings.Split(e.Entry, "_")[5])
	}
	slices.Sort(got)
	if want := []string{"S18E177", "S18W180"}; !slices.Equal(got, want) || r.Summary.Downloaded != 2 {
		t.Fatalf("planned %v (%d downloaded), want only the land tiles %v downloaded", got, r.Summary.Downloaded, want)
	}
	if n := svc.ts.Stats().ByStatus[404]; n != 0 {
		t.Errorf("%d requests ended in 404, want none", n)
	}
	if r.Options.Grid == "" {
		t.Error("the report's options do not name the grid")
	}

	// Without the grid the same box probes every cell.
	svc2 := newServices(t, terrascopetest.WithLandMask(true))
	res = runWCDL(t, t.Context(), creds(), "", nil, svc2.args("--bbox", box, "-o", t.TempDir())...)
	if res.code != exitOK {
		t.Fatalf("without --grid: exit %d, stderr:\n%s", res.code, res.stderr)
	}
	if n := svc2.ts.Stats().ByStatus[404]; n != 8 {
		t.Errorf("without --grid: %d requests ended in 404, want the 8 ocean cells of the box", n)
	}
}

func TestRunGridUnlistedEntries(t *testing.T) {
	const ocean = "S30W132"
	for _, strict := range []bool{false, true} {
		t.Run(map[bool]string{false: "warning", true: "strict"}[strict], func(t *testing.T) {
			svc := newServices(t)
			args := svc.args("-m", writeManifest(t, "N00E006", ocean), "--grid", gridFile(t), "-o", t.TempDir())
			if strict {
				args = append(args, "--strict")
			}
			res := runWCDL(t, t.Context(), creds(), "", nil, args...)
			msg := "tiles.txt:2: tile " + ocean + " is not in the grid"
			if !strings.Contains(res.stderr, msg) {
				t.Errorf("stderr does not say %q:\n%s", msg, res.stderr)
			}
			if want := "--strict and 1 entry names a tile the grid does not list"; strict && !strings.Contains(res.stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
			}
			switch {
			case strict && (res.code != exitUsage || svc.ts.Stats().Requests != 0):
				t.Errorf("--strict: exit %d after %d requests, want %d before any", res.code, svc.ts.Stats().Requests, exitUsage)
			case !strict && res.code != exitOK:
				t.Errorf("without --strict: exit %d, want %d (a warning only); stderr:\n%s", res.code, exitOK, res.stderr)
			}
		})
	}
}

// A grid URL is fetched without a token and cached with its validator:
// the next run asks conditionally and gets 304.
func TestRunGridURLIsCached(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HOME", cache)
	svc := newServices(t, terrascopetest.WithLandMask(true))
	aoi := writeFile(t, "u.geojson", uShape)
	for run := 1; run <= 2; run++ {
		res := runWCDL(t, t.Context(), map[string]string{}, "", nil, "--dry-run", "--aoi", aoi, "--grid", svc.ts.GridURL()+"?sig=s3cr3t", "--base-url", svc.ts.URL())
		if res.code != exitOK {
			t.Fatalf("run %d: exit %d, stderr:\n%s", run, res.code, res.stderr)
		}
		if got := strings.Count(res.stdout, "\n"); got != 7 {
			t.Errorf("run %d: %d planned entries, want the 7 of the U (all land in the stand-in grid)", run, got)
		}
		if strings.Contains(res.stdout+res.stderr, "s3cr3t") {
			t.Errorf("run %d: the grid URL's query appears in the output", run)
		}
	}
	st := svc.ts.Stats()
	if st.AuthorizationSeen != 0 || st.ByStatus[200] != 1 || st.ByStatus[304] != 1 {
		t.Fatalf("grid requests: %d with a token, %d answered 200, %d answered 304; want none, 1 and 1", st.AuthorizationSeen, st.ByStatus[200], st.ByStatus[304])
	}
	files, _ := filepath.Glob(filepath.Join(cache, "wcdl", "grid-*"))
	if len(files) != 2 {
		t.Errorf("cache holds %v, want the grid and its validators", files)
	}
}

// A cache folder that cannot be written (a file in its place) does not stop
// the run: the fetched grid is used, and a warning says it was not cached.
func TestFetchGridUncachable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"type":"FeatureCollection","features":[]}`))
	}))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.WriteFile(dir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var warned []string
	body, err := fetchGrid(t.Context(), srv.Client(), srv.URL+"/grid.geojson", dir, func(m string) { warned = append(warned, m) })
	if err != nil || len(body) == 0 {
		t.Fatalf("got %q, %v; want the grid", body, err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "could not be cached") {
		t.Errorf("warnings %q, want one saying the grid could not be cached", warned)
	}
}
