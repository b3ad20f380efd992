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
	entries int    // in the plan
	w       io.Writer
	con     *console // tells the results
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
	// login, if set, says how long the login waits before its next
	// attempt, and how many attempts failed, while it waits; 0 otherwise.
	login func() (wait time.Duration, failed int64)
	// now is the clock the time left is estimated with.
	now func() time.Time
}

// newProgress shows the run on con; a bar is drawn on scr, which keeps the
// other lines off it.
func newProgress(mode string, con *console, scr *screen, entries int) *progress {
	p := &progress{mode: mode, entries: entries, w: scr.barWriter(), con: con, quit: make(chan struct{}), now: time.Now}
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
		// The time left is wcdl's own (the description): the bar's
		// estimate says 0s whenever its recent rate is 0.
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionUseIECUnits(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
	)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var (
		left  timeLeft
		sized bool // the bar has a length
	)
	update := func() downloader.Progress {
		s := sample()
		if s.Interrupted+s.NotStarted > 0 || (p.halted != nil && p.halted()) {
			return s // stopped: the bar stays where it was
		}
		// Before the downloader's first count, the plan's.
		desc := fmt.Sprintf("%d/%d files", s.FilesDone, max(s.FilesTotal, int64(p.entries)))
		total := estimateTotal(s)
		wait, failed := time.Duration(0), int64(0)
		if p.login != nil {
			wait, failed = p.login()
		}
		switch {
		case wait > 0 && s.BytesDone == 0:
			// No byte yet: the whole run waits for the login, and a
			// percentage would only say 0.
			desc += ", " + loginWaitText(wait, failed)
			total = 0
			if sized {
				bar.ChangeMax64(-1)
				sized = false
			}
		case wait > 0:
			desc += ", waiting for a new token: " + loginWaitText(wait, failed)
		default:
			left.add(p.now(), s.BytesDone)
			if eta := left.estimate(total - s.BytesDone); eta != "" {
				desc += ", " + eta + " left"
			}
		}
		if total > 0 && s.FilesDone < s.FilesTotal {
			// The bar counts itself finished once it reaches its
			// maximum and renders no more: keep it short of that
			// until the last file ends.
			total = max(total, s.BytesDone+1)
		}
		if total > 0 && (!sized || total != bar.GetMax64()) {
			bar.ChangeMax64(total)
			sized = true
		}
		bar.Describe(desc)
		_ = bar.Set64(s.BytesDone)
		return s
	}
	update()
	for {
		select {
		case <-tick.C:
			update()
		case r, ok := <-p.results:
			if ok && r.Status == downloader.Failed && !p.hold(r) {
				p.con.result(r, sample()) // the screen keeps it off the bar
			}
		case <-p.quit:
			// A stopped run leaves the bar where it was, not at an end
			// that its entries never reached; a run that stopped before
			// its first byte (a refused login) leaves no bar at all.
			s := update()
			switch {
			case s.FilesDone == s.FilesTotal && s.BytesDone > 0 && s.Interrupted+s.NotStarted == 0:
				_ = bar.Finish()
				fmt.Fprintln(p.w)
			case s.BytesDone == 0 && s.Downloaded+s.Skipped+s.Missing+s.Failed == 0:
				_ = bar.Clear()
				_ = bar.Exit()
			default:
				_ = bar.Exit()
				fmt.Fprintln(p.w)
			}
			for r := range p.results {
				if r.Status == downloader.Failed && !p.hold(r) {
					p.con.result(r, sample())
				}
			}
			return
		}
	}
}

// loginWaitText says that the login waits to try again.
func loginWaitText(wait time.Duration, failed int64) string {
	attempts := "1 attempt"
	if failed != 1 {
		attempts = fmt.Sprintf("%d attempts", failed)
	}
	return fmt.Sprintf("waiting for the login (%s failed, next in %s)", attempts, roundUp(wait))
}

// estimateTotal guesses the run's total bytes for the bar: the sizes known
// (BytesExpected), and for each entry whose size is not known yet the mean
// of the known ones. Entries skipped or missing count for nothing, so the
// estimate does not move as they end; 0 means nothing is known yet.
func estimateTotal(s downloader.Progress) int64 {
	if s.FilesSized == 0 || s.BytesExpected == 0 {
		return 0
	}
	return max(s.BytesExpected+s.FilesUnsized*(s.BytesExpected/s.FilesSized), s.BytesDone)
}

// etaWindow is how far back the rate that estimates the time left looks.
const etaWindow = 10 * time.Second

// timeLeft estimates the time a run has left from the bytes it received
// over the last etaWindow.
type timeLeft struct {
	samples []etaSample
}

type etaSample struct {
	at    time.Time
	bytes int64
}

// add records that done bytes had arrived at now.
func (t *timeLeft) add(now time.Time, done int64) {
	t.samples = append(t.samples, etaSample{now, done})
	i := 0
	for i < len(t.samples)-2 && now.Sub(t.samples[i+1].at) >= etaWindow {
		i++
	}
	t.samples = t.samples[i:]
}

// estimate says how long remaining bytes take at the recent rate, rounded
// up to a second ("1s", "2m05s"), or "" when it cannot tell: less than a
// second of samples, or no byte in the window (a stall, a retry's wait).
func (t *timeLeft) estimate(remaining int64) string {
	if len(t.samples) < 2 || remaining <= 0 {
		return ""
	}
	first, last := t.samples[0], t.samples[len(t.samples)-1]
	span := last.at.Sub(first.at)
	got := last.bytes - first.bytes
	if span < time.Second || got <= 0 {
		return ""
	}
	secs := float64(remaining) / (float64(got) / span.Seconds())
	if secs > float64(100*24*time.Hour/time.Second) {
		return ""
	}
	return roundUp(time.Duration(secs * float64(time.Second))).String()
}

// roundUp rounds d up to a whole second, at least one.
func roundUp(d time.Duration) time.Duration {
	return max(time.Second, (d+time.Second-1)/time.Second*time.Second)
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
