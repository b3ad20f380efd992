package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/wcdl/wcdl/downloader"
)

// progress shows how a run goes. Workers only hand it finished results
// through a channel with room for every entry, so they never wait for it;
// the bar is fed by a ticker that samples the downloader's counters.
type progress struct {
	mode    string // "bar", "plain" or "none"
	w       io.Writer
	con     *console // tells the results
	workers int
	results chan downloader.Result
	// held are failures of a kind that stops the batch: their lines wait
	// for the end, where they are left out if the batch did stop for
	// that reason (one line then says why).
	held []downloader.Result
	quit chan struct{}
	// halted, if set, reports that the run was interrupted: from then on
	// the bar is not redrawn.
	halted func() bool
	sample func() downloader.Progress
	wg     sync.WaitGroup
}

func newProgress(mode string, con *console, entries, workers int) *progress {
	p := &progress{mode: mode, w: con.w, con: con, workers: workers, quit: make(chan struct{})}
	if mode != "none" {
		p.results = make(chan downloader.Result, entries)
	}
	return p
}

// result takes one finished entry. It never blocks.
func (p *progress) result(r downloader.Result) {
	if p.results == nil {
		return
	}
	select {
	case p.results <- r:
	default: // cannot happen: the channel holds every entry
	}
}

// start begins showing progress; sample reads the downloader's counters.
func (p *progress) start(sample func() downloader.Progress) {
	p.sample = sample
	switch p.mode {
	case "plain":
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			var done int64
			for r := range p.results {
				// The entries told so far, this one included: the
				// downloader's count may already be ahead of the lines.
				done++
				if !p.hold(r) {
					s := sample()
					s.FilesDone = done
					p.con.result(r, s)
				}
			}
		}()
	case "bar":
		p.wg.Add(1)
		go p.runBar(sample)
	}
}

// stop ends the display once the downloader has returned, and so will send
// no more results. runErr is what Run returned.
func (p *progress) stop(runErr error) {
	close(p.quit)
	if p.results != nil {
		close(p.results)
	}
	p.wg.Wait()
	for _, r := range p.held {
		if !coveredByStop(r, runErr) {
			p.con.result(r, p.sample())
		}
	}
}

// hold keeps back the line of a failure common to every file, and
// reports whether it did. Entries never started or interrupted get no line
// at all: the summary counts them.
func (p *progress) hold(r downloader.Result) bool {
	switch {
	case r.Status == downloader.NotStarted, r.Status == downloader.Interrupted:
		return true
	case r.Status == downloader.Failed && sharedFailure(r.Err) != nil:
		p.held = append(p.held, r)
		return true
	}
	return false
}

func (p *progress) runBar(sample func() downloader.Progress) {
	defer p.wg.Done()
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionUseIECUnits(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	update := func() downloader.Progress {
		s := sample()
		if s.Interrupted+s.NotStarted > 0 || (p.halted != nil && p.halted()) {
			return s // stopped: the bar stays where it was
		}
		total := estimateTotal(s, p.workers)
		if s.FilesDone < s.FilesTotal {
			// The bar counts itself finished once it reaches its
			// maximum and renders no more: keep it short of that
			// until the last file ends.
			total = max(total, s.BytesDone+1)
		}
		if total > 0 && total != bar.GetMax64() {
			bar.ChangeMax64(total)
		}
		bar.Describe(fmt.Sprintf("%d/%d files", s.FilesDone, s.FilesTotal))
		_ = bar.Set64(s.BytesDone)
		return s
	}
	for {
		select {
		case <-tick.C:
			update()
		case r, ok := <-p.results:
			if ok && r.Status == downloader.Failed && !p.hold(r) {
				_ = bar.Clear()
				p.con.result(r, sample())
			}
		case <-p.quit:
			// A stopped run leaves the bar where it was, not at an end
			// that its entries never reached.
			if s := update(); s.FilesDone == s.FilesTotal && s.BytesDone > 0 && s.Interrupted+s.NotStarted == 0 {
				_ = bar.Finish()
			} else {
				_ = bar.Exit()
			}
			fmt.Fprintln(p.w)
			for r := range p.results {
				if r.Status == downloader.Failed && !p.hold(r) {
					p.con.result(r, sample())
				}
			}
			return
		}
	}
}

// estimateTotal guesses the run's total bytes for the bar. The downloader
// knows a file's size only once its download starts, so files still queued
// are counted at the mean size of the files started so far.
func estimateTotal(s downloader.Progress, workers int) int64 {
	started := min(s.FilesTotal, s.FilesDone+int64(workers))
	if started == 0 || s.BytesExpected == 0 {
		return 0
	}
	queued := s.FilesTotal - started
	return max(s.BytesExpected+queued*s.BytesExpected/started, s.BytesDone)
}

// resultLine is the one line a finished entry gets in plain output.
func resultLine(r downloader.Result) string {
	switch r.Status {
	case downloader.Downloaded:
		return fmt.Sprintf("downloaded %s (%s, %d attempt%s, %s)", r.Entry.Name, formatBytes(r.Size), r.Attempts, plural(r.Attempts), r.Duration.Round(time.Millisecond))
	case downloader.Skipped:
		return fmt.Sprintf("skipped %s (already complete)", r.Entry.Name)
	case downloader.Missing:
		from := "a box or an area"
		switch {
		case r.Entry.Source.BBox != "":
			from = "a box"
		case r.Entry.Source.AOI != "":
			from = "an area"
		}
		return fmt.Sprintf("missing %s (the service has no such file; allowed for tiles from %s)", r.Entry.Name, from)
	}
	return fmt.Sprintf("failed %s: %v", r.Entry.Name, r.Err)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// formatBytes prints n in IEC units: 512 B, 1.5 KiB, 2.0 GiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
