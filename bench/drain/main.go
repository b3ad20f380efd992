// Command drain measures how fast a download service can serve a list of
// URLs over loopback: N goroutines GET each URL and discard the body. It is
// the upper bound that bench/run.sh compares download managers against.
// With -o it writes each body to a file in a folder instead (no fsync, no
// check), the bound for a tool that keeps what it downloads.
//
//	drain -n 16 -i urls.txt -token-file token [-o DIR]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	n := flag.Int("n", 16, "concurrent requests")
	list := flag.String("i", "", "file with one URL per line")
	tokenFile := flag.String("token-file", "", "file holding a bearer token (optional)")
	out := flag.String("o", "", "write each body to a file in this folder instead of discarding it")
	flag.Parse()
	if err := run(context.Background(), *n, *list, *tokenFile, *out); err != nil {
		fmt.Fprintf(os.Stderr, "drain: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int, list, tokenFile, out string) error {
	urls, err := readLines(list)
	if err != nil {
		return err
	}
	var token string
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return err
		}
		token = strings.TrimSpace(string(b))
	}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: n,
		DisableCompression:  true,
	}}
	var (
		next  atomic.Int64
		total atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  []error
	)
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(urls)) {
					return
				}
				b, err := get(ctx, client, urls[i], token, out)
				total.Add(b)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("drain: %d URLs, %d bytes in %.3fs (%.1f MiB/s), %d workers\n",
		len(urls), total.Load(), el.Seconds(), float64(total.Load())/(1<<20)/el.Seconds(), n)
	return errors.Join(errs...)
}

// get fetches one URL into io.Discard, or into a file in the folder out,
// and returns the bytes read.
func get(ctx context.Context, c *http.Client, url, token, out string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var w io.Writer = io.Discard
	if out != "" {
		f, err := os.Create(filepath.Join(out, path.Base(url)))
		if err != nil {
			return 0, err
		}
		defer f.Close()
		w = f
	}
	n, err := io.CopyBuffer(w, resp.Body, make([]byte, 256<<10))
	if err != nil {
		return n, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, fmt.Errorf("GET %s: %d of %d bytes", url, n, resp.ContentLength)
	}
	return n, nil
}

// readLines reads the non-empty lines of a file.
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}
