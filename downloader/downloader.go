package downloader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"

	"github.com/wcdl/wcdl/auth"
	"github.com/wcdl/wcdl/internal/httpguard"
	"github.com/wcdl/wcdl/manifest"
	"github.com/wcdl/wcdl/output"
)

// Status is how an entry ended.
type Status string

// The statuses an entry can end with.
const (
	Downloaded Status = "downloaded" // fetched, verified and published
	Skipped    Status = "skipped"    // already complete at its final name
	Missing    Status = "missing"    // 404 for an entry that may be missing
	Failed     Status = "failed"     // see Result.Err

	// Interrupted: the run's context ended while the entry was under
	// way; what was received is kept in its part for the next run.
	Interrupted Status = "interrupted"
	// NotStarted: the batch stopped (its context ended, or a permanent
	// authentication failure) before the entry was started.
	NotStarted Status = "not_started"
)

// A Result tells how one entry ended.
type Result struct {
	Entry    manifest.Entry
	Path     string        // where the file is published: its final path in Config.Dir, or Config.Output's Where
	Status   Status        // how the entry ended
	Bytes    int64         // bytes received over the network for this entry in this run
	Size     int64         // size of the final file (downloaded or skipped), else 0
	Attempts int           // HTTP attempts made for this entry
	Duration time.Duration // time spent on this entry
	SHA256   string        // hex SHA-256 of the whole final file when downloaded (see Config.SkipSHA256), else ""
	Err      error         // why the entry failed or was not started; nil for the other statuses
	// Checked names what the downloaded file was verified against: "size",
	// "sha256" and "md5" (the manifest's), CheckedETagMD5,
	// CheckedETagParts or CheckedContentMD5 (the service's), "tiff".
	Checked []string
	// Origin is the source the file came from (manifest.Location.Source)
	// when the entry lists locations, else "".
	Origin string
	// Sizes notes the sources that announced another size than the one
	// the file came from, as "source: N bytes"; nil when they agree.
	Sizes []string

	tried bool // a request for it went past the token to the service
}

// Config configures a Downloader. The zero value of every field but Dir
// selects a default.
type Config struct {
	// Dir is the output folder. It is created if needed, and opened once
	// per Run: every file in it is reached through that handle, so
	// renaming the folder during a run cannot redirect a write.
	Dir string

	// Output, if not nil, is where files are written instead of Dir
	// (Dir is then not used): another implementation of the same
	// promises, such as a bucket. Without Features.ReadBack every check
	// runs on the stream (see stream.go).
	Output output.Location

	// Workers is the number of files downloaded at once (default 4).
	Workers int

	// Client carries the authentication transport; nil selects a plain
	// client over NewTransport. A Client meant for -w N has NewTransport
	// (or one like it) at its base, so that each transfer has its own
	// connection. The Downloader uses a copy limited to five redirects and
	// wraps it for retries; Client itself is not changed.
	Client *http.Client

	// Attempts is the per-file attempt budget: every HTTP attempt of a file
	// counts, whether a retry, a resume or a download that failed its
	// verification (default 5), but for attempts that ended on a token
	// the service refused: those end a file after a few in a row, or up
	// to 32 when the service revoked the token while it accepted others.
	Attempts int

	// RetryWaitMin is the backoff floor (default 1s).
	RetryWaitMin time.Duration

	// RetryMaxWait caps any single wait, Retry-After included (default 5m).
	RetryMaxWait time.Duration

	// StallTimeout cuts a request that receives no response headers, or no
	// byte of a body while it is read, for this long, whatever the status
	// and whoever reads the body (this package, the retry library, net/http
	// following a redirect), so that it is retried or resumed on a new
	// connection (default 2m).
	StallTimeout time.Duration

	// MaxFileSize bounds every file: a larger announced length is refused,
	// and a body without a length (and without a manifest size=) is cut
	// one byte beyond it (default DefaultMaxFileSize).
	MaxFileSize int64

	// MinRate, when positive, cuts a transfer whose average rate over the
	// last StallTimeout stays below MinRate bytes per second, so that it
	// resumes on a new connection (default 0: off).
	MinRate int64

	// Limiter limits the byte rate of the whole run; nil means unlimited.
	Limiter *rate.Limiter

	// SkipSHA256 leaves Result.SHA256 empty for entries whose manifest
	// line gives no sha256=, and does not compute it: the hash is about
	// half of the CPU a large download costs, for a result that a caller
	// may not use. An entry with sha256= is always checked against it.
	// Size, format and md5= checks do not depend on it.
	SkipSHA256 bool

	// Force downloads files again even when they are already complete.
	Force bool

	// Logger receives retry and download messages; nil discards them.
	Logger *slog.Logger

	// OnResult, when set, is called once per entry as it ends, from worker
	// goroutines. It must be quick and safe for concurrent use.
	OnResult func(Result)
}

// logger returns the configured logger, or one that discards.
func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Progress is a snapshot of a run's counters.
type Progress struct {
	FilesTotal int64 // entries in the run
	FilesDone  int64 // entries that ended, whatever their status

	// BytesDone is the number of bytes received so far. BytesExpected is
	// the number of bytes the run expects to receive: the sizes known so
	// far (manifest size=, else the announced length) of the files not
	// skipped, less what resumed parts already hold. When every entry has
	// ended the two are equal; after a stop, entries never started keep
	// their manifest size in BytesExpected.
	BytesDone, BytesExpected int64

	// FilesSized counts the entries whose share of BytesExpected is a
	// known size above zero (an entry skipped or missing adds nothing);
	// FilesUnsized the entries not ended whose size is not known yet. A
	// display can estimate the run's total as BytesExpected plus
	// FilesUnsized files of the mean size of the FilesSized ones.
	FilesSized, FilesUnsized int64

	// Entries by status.
	Downloaded, Skipped, Missing, Failed, Interrupted, NotStarted int64

	// Concurrency is the number of transfers allowed in flight now: the
	// workers, less while the service answers 429 or 503.
	// ConcurrencyLowest is the lowest it went in the run, and Throttled
	// the number of 429 and 503 answers.
	Concurrency, ConcurrencyLowest, Throttled int64
}

// A Downloader fetches files with a bounded pool of workers sharing one
// HTTP client. Run may be called again after it returns, but not
// concurrently.
type Downloader struct {
	cfg    Config
	client *retryablehttp.Client
	now    func() time.Time
	// writeback starts writing a range of a part to disk
	// (startWriteback); tests replace it to see the ranges.
	writeback func(f *os.File, off, n int64)
	// lockBusy, if set (by tests), is called each time a part's lock is
	// found held by another Downloader or process.
	lockBusy func()
	// failWrite, if set (by tests), is called before each write to a part;
	// an error it returns is the write's.
	failWrite func() error
	bufs      sync.Pool // *[]byte copy buffers
	conc      *concurrency
	// rangeMin is the smallest range a file is split into (0: files are
	// never split); rangeSave is how many bytes a range receives between
	// two writes of the resume metadata. Tests make them small.
	rangeMin, rangeSave int64
	// onRangeSave, if set (by tests), is called after the metadata of a
	// file fetched in ranges was written, with the spans it lists.
	onRangeSave func(done []span)
	// onSplit, if set (by tests), is called with the number of ranges
	// chosen for each file that could be split.
	onSplit func(n int)
	// left counts the entries of the run that have not ended.
	left atomic.Int64

	filesTotal, filesDone, bytesDone, bytesExpected atomic.Int64
	filesSized, filesUnsized                        atomic.Int64
	downloaded, skipped, missing, failed            atomic.Int64
	interrupted, notStarted                         atomic.Int64

	// answers counts the answers of the service: proof that the token of
	// the moment works, or that it was revoked (see job.run).
	answers answers

	// dead are the sources found out of reach (fallback.go).
	dead deadSources
}

// copyBufSize is the size of the buffers the body is copied through.
const copyBufSize = 256 << 10

// New returns a Downloader for cfg, with defaults filled in.
func New(cfg Config) (*Downloader, error) {
	if cfg.Dir == "" && cfg.Output == nil {
		return nil, errors.New("downloader: no output folder given")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 5
	}
	if cfg.RetryWaitMin <= 0 {
		cfg.RetryWaitMin = time.Second
	}
	if cfg.RetryMaxWait <= 0 {
		cfg.RetryMaxWait = 5 * time.Minute
	}
	if cfg.RetryMaxWait < cfg.RetryWaitMin {
		cfg.RetryMaxWait = cfg.RetryWaitMin
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = DefaultMaxFileSize
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = 2 * time.Minute
	}
	var hc http.Client
	if cfg.Client != nil {
		hc = *cfg.Client
	} else {
		t := NewTransport(cfg.Workers, nil)
		t.ResponseHeaderTimeout = cfg.StallTimeout
		hc.Transport = t
	}
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	// Every wait on the service, for headers or for any byte of any body
	// (whoever reads it: this package, the retry library draining an error
	// answer, net/http draining a redirect), is bounded by StallTimeout;
	// and no request carries a Referer.
	hc.Transport = &httpguard.Transport{Base: rt, Stall: cfg.StallTimeout}
	nextRedirect := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return fmt.Errorf("%w: stopped after %d redirects at %s", ErrTooManyRedirects, maxRedirects, redact(req.URL.String()))
		}
		if s := req.URL.Scheme; s != "http" && s != "https" {
			return fmt.Errorf("%w: to %s", ErrBadRedirect, redact(req.URL.String()))
		}
		if nextRedirect != nil {
			return nextRedirect(req, via)
		}
		return nil
	}
	d := &Downloader{cfg: cfg, now: time.Now, writeback: startWriteback, rangeMin: rangeMin, rangeSave: writebackChunk}
	log := cfg.logger()
	d.conc = newConcurrency(cfg.Workers, func(from, to int, why string) {
		log.Debug("transfers in flight", "from", from, "to", to, "because", why)
	})
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = countAnswers{next: &throttle{next: next, c: d.conc}, a: &d.answers}
	d.client = newRetryClient(&hc, cfg, func() time.Time { return d.now() })
	d.bufs.New = func() any { b := make([]byte, copyBufSize); return &b }
	return d, nil
}

// Progress returns a snapshot of the counters of the current or last run.
// It is cheap and safe to call at any time from any goroutine.
func (d *Downloader) Progress() Progress {
	limit, lowest, throttled := d.conc.stats()
	return Progress{
		Concurrency:       int64(limit),
		ConcurrencyLowest: int64(lowest),
		Throttled:         throttled,
		FilesTotal:        d.filesTotal.Load(),
		FilesDone:         d.filesDone.Load(),
		BytesDone:         d.bytesDone.Load(),
		BytesExpected:     d.bytesExpected.Load(),
		FilesSized:        d.filesSized.Load(),
		FilesUnsized:      d.filesUnsized.Load(),
		Downloaded:        d.downloaded.Load(),
		Skipped:           d.skipped.Load(),
		Missing:           d.missing.Load(),
		Failed:            d.failed.Load(),
		Interrupted:       d.interrupted.Load(),
		NotStarted:        d.notStarted.Load(),
	}
}

// Run downloads entries and returns one Result per entry, in entry order,
// always, also when the batch stops early.
//
// A failing file does not stop the others. The batch stops only when ctx
// ends, or on a failure common to every file: the output folder's file
// system is full or read-only (ENOSPC, EDQUOT, EROFS), the login failed for
// the run (auth.ErrLoginFailed, auth.ErrBadCredentials,
// auth.ErrBadTokenAnswer), the service refused fresh tokens
// (auth.ErrTokenRefused) for as many consecutive files as there are
// workers, or the service could not be reached at all (ErrUnreachable, an
// *UnreachableError) for a few consecutive files, with no file succeeding
// in between. The returned error is then that failure or ctx.Err(). Entries
// never started are NotStarted, with an error wrapping ErrNotStarted and
// that failure. Entries under way when ctx ends are Interrupted and keep
// their partial files for the next run; when a common failure stops the
// batch, the entries under way are NotStarted if no request of theirs
// reached the service (they waited for a token, say), Interrupted if some
// of their bytes arrived, and Failed otherwise. Otherwise the error is nil.
func (d *Downloader) Run(ctx context.Context, entries []manifest.Entry) ([]Result, error) {
	d.resetProgress(entries)
	results := make([]Result, len(entries))
	ended := make([]bool, len(entries))
	loc := d.cfg.Output
	if loc == nil {
		fo, err := openFolder(d.cfg.Dir)
		if err != nil {
			for i, e := range entries {
				d.finish(&results[i], Result{Entry: e, Path: filepath.Join(d.cfg.Dir, e.Name), Status: Failed, Err: err})
			}
			return results, err
		}
		defer fo.close()
		loc = fo
	}

	parent := ctx
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var (
		mu      sync.Mutex
		refused int // consecutive files refused with fresh tokens
		unreach int // consecutive files whose service could not be reached
	)
	jobs := make(chan int)
	var wg sync.WaitGroup
	workers := min(d.cfg.Workers, max(len(entries), 1))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if ctx.Err() != nil {
					continue // handed out as the batch stopped: not started
				}
				r := d.fetch(ctx, loc, entries[i])
				if r.Status == Failed && errors.Is(r.Err, context.Canceled) {
					if cause := context.Cause(ctx); isBatchStop(cause) && !isBatchStop(r.Err) {
						// Cut by a stop that another file met: not started if
						// no request of it reached the service (it waited for
						// a token, say); interrupted if some of it arrived,
						// kept for the next run; else failed for that stop.
						switch {
						case !r.tried:
							r.Status, r.Attempts = NotStarted, 0 // none went out
							r.Err = fmt.Errorf("%s: %w: %w", redact(entries[i].URL), ErrNotStarted, &stopCause{cause})
						case r.Bytes > 0:
							r.Status, r.Err = Interrupted, nil
						default:
							r.Err = fmt.Errorf("%s: interrupted: %w", redact(entries[i].URL), &stopCause{cause})
						}
					} else if parent.Err() != nil {
						r.Status, r.Err = Interrupted, nil
					}
				}
				if r.Status == Failed && !r.tried && isLoginStop(r.Err) {
					// The login failed while it waited for a token: the
					// service never saw it. The stop is told once.
					r.Status, r.Attempts = NotStarted, 0
					r.Err = fmt.Errorf("%s: %w: %w", redact(entries[i].URL), ErrNotStarted, r.Err)
				}
				mu.Lock()
				switch {
				case errors.Is(r.Err, auth.ErrLoginFailed), errors.Is(r.Err, auth.ErrBadCredentials), errors.Is(r.Err, auth.ErrBadTokenAnswer), isStorageFull(r.Err):
					stop(r.Err)
				case errors.Is(r.Err, auth.ErrTokenRefused):
					if refused++; refused >= workers {
						stop(r.Err)
					}
				case r.Status == Downloaded || r.Status == Missing:
					refused, unreach = 0, 0
				default:
					if ue, ok := markUnreachable(&r); ok {
						if unreach++; unreach >= unreachableRun {
							stop(ue)
						}
					}
				}
				ended[i] = true
				mu.Unlock()
				d.finish(&results[i], r)
			}
		}()
	}
feed:
	for i := range entries {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()

	err := context.Cause(ctx)
	if err == nil {
		return results, nil
	}
	var why error = &stopCause{err}
	if !isBatchStop(err) {
		err = parent.Err()
		why = err
	}
	for i, e := range entries {
		if !ended[i] {
			d.finish(&results[i], Result{Entry: e, Path: loc.Where(e.Name), Status: NotStarted,
				Err: fmt.Errorf("%s: %w: %w", redact(e.URL), ErrNotStarted, why)})
		}
	}
	return results, err
}

// isLoginStop reports the login failures that end the run's logins.
func isLoginStop(err error) bool {
	return errors.Is(err, auth.ErrLoginFailed) || errors.Is(err, auth.ErrBadCredentials) ||
		errors.Is(err, auth.ErrBadTokenAnswer)
}

// isBatchStop reports the failures that stop a batch: authentication, and
// a full or read-only output file system.
func isBatchStop(err error) bool {
	return errors.Is(err, auth.ErrLoginFailed) || errors.Is(err, auth.ErrBadCredentials) ||
		errors.Is(err, auth.ErrBadTokenAnswer) || errors.Is(err, auth.ErrTokenRefused) ||
		errors.Is(err, ErrUnreachable) || isStorageFull(err)
}

// finish records r as the result of its entry: counters, OnResult.
func (d *Downloader) finish(dst *Result, r Result) {
	*dst = r
	switch r.Status {
	case Downloaded:
		d.downloaded.Add(1)
	case Skipped:
		d.skipped.Add(1)
	case Missing:
		d.missing.Add(1)
	case Interrupted:
		d.interrupted.Add(1)
	case NotStarted:
		d.notStarted.Add(1)
	default:
		d.failed.Add(1)
	}
	d.filesDone.Add(1)
	d.left.Add(-1)
	if d.cfg.OnResult != nil {
		d.cfg.OnResult(r)
	}
}

func (d *Downloader) resetProgress(entries []manifest.Entry) {
	var expected, sized, unsized int64
	for _, e := range entries {
		expected += max(e.Size, 0)
		switch {
		case e.Size > 0:
			sized++
		case e.Size < 0:
			unsized++
		}
	}
	d.filesSized.Store(sized)
	d.filesUnsized.Store(unsized)
	d.conc.resetStats()
	d.dead.reset() // a source out of reach in an earlier run is tried again
	d.filesTotal.Store(int64(len(entries)))
	d.left.Store(int64(len(entries)))
	d.bytesExpected.Store(expected)
	for _, c := range []*atomic.Int64{&d.filesDone, &d.bytesDone, &d.downloaded, &d.skipped, &d.missing, &d.failed, &d.interrupted, &d.notStarted} {
		c.Store(0)
	}
}
