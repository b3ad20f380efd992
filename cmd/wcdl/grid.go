package main

// The WorldCover tile grid: --grid (a file, or a URL fetched through a
// cache) and --strict.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wcdl/wcdl/internal/httpguard"
	"github.com/wcdl/wcdl/internal/shown"
	"github.com/wcdl/wcdl/manifest"
	"github.com/wcdl/wcdl/source"
)

// loadGrid reads --grid, a file or an http(s) URL. A URL is fetched once
// per run, without a token, through a cache in the user's cache folder.
func (c *command) loadGrid(ctx context.Context, o *options, con *console) (*manifest.Grid, error) {
	if o.grid == "" {
		return nil, nil
	}
	if s, ok := source.Find(o.sources, o.grid); ok {
		if s.GridURL() == "" {
			return nil, fmt.Errorf("--grid %s: that source publishes no grid file; give the file or its URL", o.grid)
		}
		o.grid = s.GridURL()
	} else if _, err := source.Lookup(o.grid); err == nil {
		if _, err := os.Stat(o.grid); err != nil {
			return nil, fmt.Errorf("--grid %s: names a source that --source %s does not list; add it to --source, or give the grid file or its URL", o.grid, o.source)
		}
	}
	if isURL(o.grid) {
		warn := func(msg string) {
			if !o.quiet {
				con.warn(msg)
			}
		}
		dir := ""
		if d, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(d, "wcdl")
		} else {
			warn(fmt.Sprintf("no user cache folder (%v): the grid is fetched but not cached", err))
		}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		body, err := fetchGrid(ctx, gridClient(o.stallTimeout), o.grid, dir, warn)
		if err != nil {
			return nil, fmt.Errorf("--grid: %w", err)
		}
		return wrapGridErr(manifest.ParseGrid(bytes.NewReader(body), redactURL(o.grid)))
	}
	f, err := os.Open(o.grid)
	if err != nil {
		return nil, fmt.Errorf("--grid: %w", err)
	}
	defer f.Close()
	return wrapGridErr(manifest.ParseGrid(f, o.grid))
}

func wrapGridErr(g *manifest.Grid, err error) (*manifest.Grid, error) {
	if err != nil {
		return nil, fmt.Errorf("--grid: %w", err)
	}
	return g, nil
}

// checkGrid reports the plan's entries whose tiles the grid does not list,
// before anything is downloaded: warnings, or an error with --strict.
func checkGrid(o *options, grid *manifest.Grid, plan *manifest.Plan, con *console) error {
	if grid == nil {
		return nil
	}
	msgs := grid.Unlisted(plan.Entries)
	if len(msgs) > 0 && o.strict {
		what := fmt.Sprintf("%d entries name tiles", len(msgs))
		if len(msgs) == 1 {
			what = "1 entry names a tile"
		}
		return fmt.Errorf("nothing was downloaded: --strict and %s the grid does not list:\n%s", what, strings.Join(msgs, "\n"))
	}
	for _, m := range msgs {
		if !o.quiet {
			con.warn(m)
		}
	}
	return nil
}

// gridClient is the client --grid is fetched with: no token, every wait on
// the server (headers, each read of the body) bounded by stall, and no
// Referer on a redirect, which would tell the target the grid URL's query.
func gridClient(stall time.Duration) *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Transport: &httpguard.Transport{Base: base, Stall: stall}}
}

// maxGridSize bounds the grid file read from the network: ESA's is about
// 1 MB.
const maxGridSize = 64 << 20

// gridMeta is what the cache keeps beside a grid file: its validators.
type gridMeta struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// fetchGrid returns the body of the grid at rawURL, fetched without a token.
// With dir, it keeps the body and its validators (ETag, Last-Modified)
// there, named by a hash of the URL, and asks again conditionally: a 304
// reuses the copy. If the server cannot be reached or fails, a cached copy
// is used with a warning, given to warn. Messages never show the URL's
// query or userinfo.
func fetchGrid(ctx context.Context, client *http.Client, rawURL, dir string, warn func(string)) ([]byte, error) {
	where := redactURL(rawURL)
	var bodyPath, metaPath string
	var cached []byte
	var meta gridMeta
	if dir != "" {
		sum := sha256.Sum256([]byte(rawURL))
		base := filepath.Join(dir, "grid-"+hex.EncodeToString(sum[:8]))
		bodyPath, metaPath = base+".geojson", base+".json"
		if b, err := os.ReadFile(bodyPath); err == nil {
			if m, err := os.ReadFile(metaPath); err == nil && json.Unmarshal(m, &meta) == nil {
				cached = b
			}
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("grid URL %s: %v", where, errors.Unwrap(err))
	}
	if cached != nil {
		if meta.ETag != "" {
			req.Header.Set("If-None-Match", meta.ETag)
		}
		if meta.LastModified != "" {
			req.Header.Set("If-Modified-Since", meta.LastModified)
		}
	}
	fallback := func(why error) ([]byte, error) {
		if cached == nil {
			return nil, fmt.Errorf("fetching the grid %s: %w", where, why)
		}
		warn(fmt.Sprintf("the grid %s could not be fetched (%v); using the cached copy", where, why))
		return cached, nil
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the whole URL
		}
		return fallback(err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && cached != nil:
		return cached, nil
	case resp.StatusCode != http.StatusOK:
		return fallback(fmt.Errorf("HTTP %s", shown.Text(resp.Status))) // the reason phrase is the server's
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxGridSize+1))
	if err != nil {
		return fallback(err)
	}
	if len(body) > maxGridSize {
		return nil, fmt.Errorf("fetching the grid %s: larger than %d MiB, not a grid file", where, maxGridSize>>20)
	}
	if dir != "" {
		m, _ := json.Marshal(gridMeta{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")})
		err := writeCacheFile(dir, bodyPath, body)
		if err == nil {
			err = writeCacheFile(dir, metaPath, m)
		}
		if err != nil {
			warn(fmt.Sprintf("the grid could not be cached: %v", err))
		}
	}
	return body, nil
}

// writeCacheFile writes data to path through a temporary file and a
// rename, so that a reader never sees half a file.
func writeCacheFile(dir, path string, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// redactURL returns u without userinfo, query or fragment, for messages.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(an unparsable URL)"
	}
	p.User, p.RawQuery, p.ForceQuery, p.Fragment, p.RawFragment = nil, "", false, "", ""
	return p.String()
}

// redactGrid returns --grid for the report: a URL without its query or
// userinfo, a file name as it is.
func redactGrid(g string) string {
	if isURL(g) {
		return redactURL(g)
	}
	return g
}

// isURL reports whether --grid names an http(s) URL rather than a file.
func isURL(g string) bool {
	return strings.HasPrefix(g, "http://") || strings.HasPrefix(g, "https://")
}
