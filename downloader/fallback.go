package downloader

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/wcdl/wcdl/manifest"
)

// fromLocations fetches the file from the first of its locations that
// serves it: a location that fails (its attempts spent on 5xx or 429, out
// of reach, a 404, a file that fails its checks) hands the file to the
// next, with a budget of its own. The part is never spliced across
// locations: its metadata names the URL it came from, so the next location
// starts it from zero. A source found out of reach is skipped by later
// files while another location remains.
func (j *job) fromLocations(ctx context.Context) error {
	locs := j.e.Locations
	if len(locs) == 0 {
		return j.fromHere(ctx)
	}
	var err error
	for i, loc := range locs {
		last := i == len(locs)-1
		if !last && j.d.dead.is(loc.Source) {
			continue
		}
		if err != nil {
			j.d.cfg.logger().Debug("trying the next source", "file", j.e.Name, "source", loc.Source, "after", redactErr(err))
			j.att.budget = j.att.n + j.d.cfg.Attempts
		}
		j.e.URL, j.r.Entry.URL, j.r.Origin = loc.URL, loc.URL, loc.Source
		j.digest, j.lengthKnown, j.total = sourceDigest{}, false, -1
		err = j.fromHere(ctx)
		if j.total >= 0 {
			j.seen = append(j.seen, sizeSeen{loc.Source, j.total})
		}
		if err == nil || j.published || last || !fallsBack(ctx, err, j.e) {
			break
		}
		if host, cause := unreachableCause(err); cause != "" {
			j.d.dead.mark(loc.Source)
			j.d.cfg.logger().Warn("source out of reach, later files skip it", "source", loc.Source, "host", host, "cause", cause)
		}
	}
	j.noteSizes()
	return err
}

// fallsBack reports whether a file that failed with err at one location is
// tried at the next: not when the run ends or stops for a failure common
// to every source (the login, the output disk), not for a local problem,
// and not for a 404 of a file that may be missing (a tile the sources
// never had).
func fallsBack(ctx context.Context, err error, e manifest.Entry) bool {
	switch {
	case ctx.Err() != nil, isLoginStop(err), isStorageFull(err),
		errors.Is(err, ErrNotRegular), errors.Is(err, ErrBadName):
		return false
	case errors.Is(err, ErrNotFound):
		return !e.MayBeMissing
	}
	return true
}

// sizeSeen is the length a source announced for the file.
type sizeSeen struct {
	source string
	size   int64
}

// noteSizes records in the result the sources that announced another size
// than the file's.
func (j *job) noteSizes() {
	size := j.r.Size
	if size == 0 && len(j.seen) > 0 {
		size = j.seen[len(j.seen)-1].size
	}
	for _, s := range j.seen {
		if s.size != size && s.source != j.r.Origin {
			j.r.Sizes = append(j.r.Sizes, fmt.Sprintf("%s: %d bytes", s.source, s.size))
		}
	}
	if len(j.r.Sizes) > 0 {
		j.d.cfg.logger().Warn("sources disagree on a file's size", "file", j.e.Name, "from", j.r.Origin, "size", size, "others", j.r.Sizes)
	}
}

// deadSources are the sources found out of reach in this run.
type deadSources struct {
	mu    sync.Mutex
	names map[string]bool
}

func (d *deadSources) is(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.names[name]
}

func (d *deadSources) mark(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.names == nil {
		d.names = map[string]bool{}
	}
	d.names[name] = true
}

func (d *deadSources) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.names = nil
}
