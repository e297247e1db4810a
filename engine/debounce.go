package engine

import (
	"path"
	"sort"
	"time"
)

// Batch is one burst of changes under a watched root.
type Batch struct {
	// Paths are the changed files, slash-separated and relative to the root,
	// sorted. A directory appears, with a trailing slash, only when no path
	// below it is in the batch (an empty directory created or removed).
	Paths []string
	// ConfigChanged is true when the watched wercker.yml changed. The file
	// is not in Paths.
	ConfigChanged bool
	// Overflow is true when the kernel dropped events, so Paths may be
	// incomplete.
	Overflow bool
	// Time is when the burst ended: the quiet period passed, or the cap did.
	Time time.Time
}

// empty reports whether the batch reports nothing.
func (b *Batch) empty() bool {
	return len(b.Paths) == 0 && !b.ConfigChanged && !b.Overflow
}

// merge adds the changes of other to b.
func (b *Batch) merge(other Batch) {
	seen := make(map[string]bool, len(b.Paths)+len(other.Paths))
	for _, p := range b.Paths {
		seen[p] = true
	}
	for _, p := range other.Paths {
		if !seen[p] {
			b.Paths = append(b.Paths, p)
			seen[p] = true
		}
	}
	sort.Strings(b.Paths)
	b.ConfigChanged = b.ConfigChanged || other.ConfigChanged
	b.Overflow = b.Overflow || other.Overflow
	b.Time = other.Time
}

// debouncer collects changes into bursts. A burst ends when no change came
// for quiet, or when maxDelay has passed since its first change, so a tool
// that writes without pause still causes a batch every maxDelay. It is a
// plain state machine: the caller passes the time of every call and arms a
// timer for Due, which keeps it testable without a clock.
type debouncer struct {
	quiet    time.Duration
	maxDelay time.Duration

	first    time.Time
	last     time.Time
	paths    map[string]bool // path to "is a directory"
	created  map[string]bool // paths whose first event of the burst created them
	config   bool
	overflow bool
}

func newDebouncer(quiet, maxDelay time.Duration) *debouncer {
	return &debouncer{quiet: quiet, maxDelay: maxDelay, paths: map[string]bool{}, created: map[string]bool{}}
}

// touch records that something changed at now.
func (d *debouncer) touch(now time.Time) {
	if !d.pending() {
		d.first = now
	}
	d.last = now
}

// addPath records a change of rel (slash-separated) at now; created is true
// when the change created the path.
func (d *debouncer) addPath(rel string, isDir, created bool, now time.Time) {
	d.touch(now)
	if _, seen := d.paths[rel]; !seen && created {
		d.created[rel] = true
	}
	d.paths[rel] = d.paths[rel] || isDir
}

// addConfig records a change of the watched wercker.yml at now.
func (d *debouncer) addConfig(now time.Time) {
	d.touch(now)
	d.config = true
}

// addOverflow records that events were lost at now.
func (d *debouncer) addOverflow(now time.Time) {
	d.touch(now)
	d.overflow = true
}

// pending reports whether a burst has started and not been taken.
func (d *debouncer) pending() bool {
	return len(d.paths) > 0 || d.config || d.overflow
}

// due returns when the pending burst ends: quiet after its last change, but
// no later than maxDelay after its first.
func (d *debouncer) due() time.Time {
	end := d.last.Add(d.quiet)
	if limit := d.first.Add(d.maxDelay); limit.Before(end) {
		return limit
	}
	return end
}

// take returns the burst as a Batch stamped now and starts a new one. A
// path that the burst created and that exists reports false is left out:
// it was a temporary file, such as the one sed -i writes and renames.
func (d *debouncer) take(now time.Time, exists func(rel string) bool) Batch {
	b := Batch{ConfigChanged: d.config, Overflow: d.overflow, Time: now}
	for p := range d.created {
		if !exists(p) {
			delete(d.paths, p)
		}
	}
	withEntries := map[string]bool{}
	for p := range d.paths {
		for dir := path.Dir(p); dir != "." && !withEntries[dir]; dir = path.Dir(dir) {
			withEntries[dir] = true
		}
	}
	for p, isDir := range d.paths {
		switch {
		case !isDir:
			b.Paths = append(b.Paths, p)
		case !withEntries[p]:
			b.Paths = append(b.Paths, p+"/")
		}
	}
	sort.Strings(b.Paths)
	d.paths = map[string]bool{}
	d.created = map[string]bool{}
	d.config = false
	d.overflow = false
	return b
}
