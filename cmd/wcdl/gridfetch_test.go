package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
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
	log := slog.New(slog.NewTextHandler(&logs, nil))

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
