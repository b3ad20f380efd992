package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/downloader"
)

// summary counts what a run did.
type summary struct {
	Entries        int     `json:"entries"`
	Downloaded     int     `json:"downloaded"`
	Skipped        int     `json:"skipped"`
	Missing        int     `json:"missing"`
	Failed         int     `json:"failed"`
	Interrupted    int     `json:"interrupted"`
	NotStarted     int     `json:"not_started"`
	Planned        int     `json:"planned,omitempty"` // --dry-run: every entry
	Bytes          int64   `json:"bytes"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	BytesPerSecond float64 `json:"bytes_per_second"`
	TokenRequests  int64   `json:"token_requests"`
	PasswordGrants int64   `json:"password_grants"`
	RefreshGrants  int64   `json:"refresh_grants"`
	// Concurrency is the number of transfers allowed in flight at the end,
	// ConcurrencyLowest the lowest it went, and Throttled the 429 and 503
	// answers that lowered it.
	Concurrency       int64 `json:"concurrency"`
	ConcurrencyLowest int64 `json:"concurrency_lowest"`
	Throttled         int64 `json:"throttled"`
}

func summarize(results []downloader.Result, elapsed time.Duration, st auth.Stats, p downloader.Progress) summary {
	s := summary{
		Concurrency:       p.Concurrency,
		ConcurrencyLowest: p.ConcurrencyLowest,
		Throttled:         p.Throttled,
		Entries:           len(results),
		ElapsedSeconds:    elapsed.Seconds(),
		TokenRequests:     st.TokenRequests(),
		PasswordGrants:    st.PasswordGrants,
		RefreshGrants:     st.RefreshGrants,
	}
	for _, r := range results {
		s.Bytes += r.Bytes
		switch r.Status {
		case downloader.Downloaded:
			s.Downloaded++
		case downloader.Skipped:
			s.Skipped++
		case downloader.Missing:
			s.Missing++
		case downloader.Interrupted:
			s.Interrupted++
		case downloader.NotStarted:
			s.NotStarted++
		default:
			s.Failed++
		}
	}
	if elapsed > 0 {
		s.BytesPerSecond = float64(s.Bytes) / elapsed.Seconds()
	}
	return s
}

// summaryWidth is the width the summary lines fit in.
const summaryWidth = 80

// lines is the summary wcdl prints at the end of every run: the entries by
// status (only the statuses that occur), then the bytes, the time and the
// token requests, each line at most summaryWidth columns.
func (s summary) lines() []string {
	counts := []string{fmt.Sprintf("%d file%s", s.Entries, plural(s.Entries))}
	for _, c := range []struct {
		n    int
		what string
	}{
		{s.Downloaded, "downloaded"}, {s.Skipped, "skipped"}, {s.Missing, "missing"},
		{s.Failed, "failed"}, {s.Interrupted, "interrupted"}, {s.NotStarted, "not started"},
	} {
		if c.n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	elapsed := time.Duration(s.ElapsedSeconds * float64(time.Second)).Round(time.Millisecond)
	tail := fmt.Sprintf("%s in %s (%s/s), %d token request%s", formatBytes(s.Bytes), elapsed,
		formatBytes(int64(s.BytesPerSecond)), s.TokenRequests, plural(int(s.TokenRequests)))
	return append(wrap("wcdl: ", counts, summaryWidth), "wcdl: "+tail)
}

// wrap joins parts after prefix with ", ", starting a new line, indented
// like the first, where the next part would pass width columns. The first
// part ends with ":" when more follow.
func wrap(prefix string, parts []string, width int) []string {
	var lines []string
	line := prefix
	for i, p := range parts {
		sep := ", "
		switch {
		case i == 0:
			sep = ""
		case i == 1:
			sep = ": "
		}
		if i > 0 && len(line)+len(sep)+len(p) > width {
			lines = append(lines, line+strings.TrimRight(sep, " "))
			line, sep = strings.Repeat(" ", len(prefix)), ""
		}
		line += sep + p
	}
	return append(lines, line)
}

// report is the JSON document --report writes. README.md documents its
// schema; fields are only ever added, never renamed.
type report struct {
	Tool     string         `json:"tool"`
	Version  string         `json:"version"`
	Started  time.Time      `json:"started"`
	Finished time.Time      `json:"finished"`
	ExitCode int            `json:"exit_code"`
	Options  reportOptions  `json:"options"`
	Summary  summary        `json:"summary"`
	Entries  []reportRecord `json:"entries"`
	// UploadsAborted counts the incomplete multipart uploads aborted in
	// an output bucket: discarded, or left by earlier runs.
	UploadsAborted int64 `json:"uploads_aborted,omitempty"`
}

// reportOptions are the options that shaped the run. Credentials are never
// part of it.
type reportOptions struct {
	Manifests []string `json:"manifests,omitempty"`
	BBox      string   `json:"bbox,omitempty"`
	AOI       []string `json:"aoi,omitempty"`
	Grid      string   `json:"grid,omitempty"` // a URL without its query
	Years     string   `json:"years"`
	Layers    string   `json:"layers"`
	Out       string   `json:"out"`
	Workers   int      `json:"workers"`
	Provider  string   `json:"provider,omitempty"` // the three only where used
	TokenURL  string   `json:"token_url,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	BaseURL   string   `json:"base_url,omitempty"`
	Sources   string   `json:"sources"`
	NoAuth    bool     `json:"no_auth,omitempty"`
	Retries   int      `json:"retries"`
	LimitRate string   `json:"limit_rate,omitempty"`

	StallTimeoutSeconds float64 `json:"stall_timeout_seconds"`
	MinRate             string  `json:"min_rate,omitempty"`
	MaxFileSize         string  `json:"max_file_size"`
	Force               bool    `json:"force"`
	Shard               string  `json:"shard,omitempty"`
	Simulate            bool    `json:"simulate"`
	DryRun              bool    `json:"dry_run,omitempty"`
}

// reportRecord is one entry's outcome.
type reportRecord struct {
	Entry           string  `json:"entry"`
	Source          string  `json:"source"`
	URL             string  `json:"url"`
	Path            string  `json:"path"`
	Status          string  `json:"status"`
	Bytes           int64   `json:"bytes"`
	Size            int64   `json:"size"`
	Attempts        int     `json:"attempts"`
	DurationSeconds float64 `json:"duration_seconds"`
	SHA256          string  `json:"sha256,omitempty"`
	// From is the source (terrascope, aws, pc) the file came from, and
	// Checked what it was verified against (downloader.Result.Checked).
	From    string   `json:"from,omitempty"`
	Checked []string `json:"checked,omitempty"`
	// OtherSizes lists sources that announced another size.
	OtherSizes []string `json:"other_sizes,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// newReport is the report of a run with options o, which authenticated
// as use says: the login options (provider, token_url, client_id) appear
// only where the run has a use for them, not in an anonymous run.
func newReport(o *options, use credentialUse, started, finished time.Time, sum summary, code int, results []downloader.Result) *report {
	r := &report{
		Tool:     "wcdl",
		Version:  buildVersion(),
		Started:  started.UTC(),
		Finished: finished.UTC(),
		ExitCode: code,
		Options: reportOptions{
			Manifests: o.manifests, BBox: o.bbox, AOI: o.aois, Grid: redactGrid(o.grid), Years: o.years, Layers: o.layers,
			Out: o.out, Workers: o.workers, BaseURL: downloader.Redact(o.baseURL), Sources: o.source, NoAuth: o.noAuth, Retries: o.retries,
			LimitRate: o.limitRate, Force: o.force,
			StallTimeoutSeconds: o.stallTimeout.Seconds(), MinRate: o.minRate, MaxFileSize: o.maxFileSize, Shard: o.shard, Simulate: o.simulate,
			DryRun: o.dryRun,
		},
		Summary: sum,
		Entries: make([]reportRecord, 0, len(results)),
	}
	if use.login {
		r.Options.Provider = o.provider
	}
	if (use.login && !use.ready) || use.sas { // a login's token URL, or the SAS API root
		r.Options.TokenURL = downloader.Redact(o.tokenURL)
	}
	if use.login && !use.ready {
		r.Options.ClientID = o.clientID
	}
	for _, res := range results {
		rec := reportRecord{
			Entry:           downloader.RedactEntry(res.Entry.Raw),
			Source:          res.Entry.Source.String(),
			URL:             downloader.Redact(res.Entry.URL),
			Path:            res.Path,
			Status:          string(res.Status),
			Bytes:           res.Bytes,
			Size:            res.Size,
			Attempts:        res.Attempts,
			DurationSeconds: res.Duration.Seconds(),
			SHA256:          res.SHA256,
			From:            res.Origin,
			Checked:         res.Checked,
			OtherSizes:      res.Sizes,
		}
		if res.Err != nil {
			rec.Error = downloader.RedactText(res.Err.Error())
		}
		r.Entries = append(r.Entries, rec)
	}
	return r
}

// write writes the report to path, or to stdout for "-". A file is written
// atomically: a reader never sees half a report.
func (r *report) write(path string, stdout io.Writer) error {
	if path == "-" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path.
func writeFileAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil { // CreateTemp makes it 0600
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
