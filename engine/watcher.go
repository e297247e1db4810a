package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

const (
	// DefaultDebounce is the quiet period that ends a burst of changes.
	DefaultDebounce = 100 * time.Millisecond

	// MaxBurstDelay caps how long a continuous stream of changes postpones a
	// batch: a tool that writes without pause still causes a reload this
	// often.
	MaxBurstDelay = 5 * time.Second

	// watchEventBuffer is the queue between fsnotify's reader and the watch
	// loop, in events; the loop only blocks it while it walks a new folder.
	watchEventBuffer = 4096
)

// WatchOptions configure a Watcher.
type WatchOptions struct {
	// Root is the folder to watch. It is resolved through symlinks once, at
	// start.
	Root string
	// Recursive watches Root and every folder below it that is not ignored.
	// Without it only ConfigFile is watched.
	Recursive bool
	// Exclude lists absolute folders never watched, such as werk's working
	// directory.
	Exclude []string
	// Ignore holds gitignore-style patterns that apply from Root, on top of
	// the .gitignore and .werckerignore files and the built-in rules.
	Ignore []string
	// ConfigFile, when set, is the wercker.yml whose changes are reported as
	// Batch.ConfigChanged instead of in Batch.Paths, even when it lies
	// outside Root or is ignored.
	ConfigFile string
	// Debounce is the quiet period that ends a burst; zero ends it with the
	// events at hand. MaxDelay caps a burst; zero means MaxBurstDelay.
	Debounce time.Duration
	MaxDelay time.Duration
	// Warn receives messages for the user, such as the inotify limit. It is
	// called from the watcher's goroutine; nil drops them.
	Warn func(string)
}

// Watcher reports changes under a folder tree as batches, one per burst. It
// watches folders, never single files, because editors replace files by
// renaming. Folders created later are watched and scanned as they appear,
// folders that are removed or renamed are released, and ignored folders are
// never entered. While nothing changes it uses no CPU: no timer runs.
type Watcher struct {
	opts       WatchOptions
	root       string
	configPath string
	configDir  string
	filter     *watchFilter
	fs         *fsnotify.Watcher
	debounce   *debouncer
	// addWatch adds one folder to fs; tests replace it to simulate the
	// kernel's watch limit.
	addWatch func(string) error

	mu   sync.Mutex
	dirs map[string]bool // watched folders below root, absolute

	// unwatched counts the folders of the current walk that could not be
	// watched because the inotify limit was reached.
	unwatched int

	batches chan Batch
	done    chan struct{}
	stopped chan struct{}
	close   sync.Once
}

// NewWatcher watches opts.Root and returns once every folder is watched, so
// a change made after it returns is reported. Close releases every watch.
func NewWatcher(opts WatchOptions) (*Watcher, error) {
	return newWatcher(opts, nil)
}

// newWatcher is NewWatcher with a replacement for fsnotify's Add.
func newWatcher(opts WatchOptions, addWatch func(*fsnotify.Watcher, string) error) (*Watcher, error) {
	root, err := filepath.Abs(opts.Root)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return nil, fmt.Errorf("resolving the folder to watch %q: %w", opts.Root, err)
	}
	if opts.MaxDelay == 0 {
		opts.MaxDelay = MaxBurstDelay
	}
	fw, err := fsnotify.NewBufferedWatcher(watchEventBuffer)
	if err != nil {
		if errors.Is(err, syscall.EMFILE) {
			return nil, fmt.Errorf("starting the file watcher: %w (the limit of inotify instances is reached: %s; "+
				"raise it with `sysctl fs.inotify.max_user_instances=1024` as root, and in /etc/sysctl.d/ to keep it)",
				err, currentLimit("max_user_instances"))
		}
		return nil, fmt.Errorf("starting the file watcher: %w", err)
	}
	w := &Watcher{
		opts:     opts,
		root:     root,
		filter:   newWatchFilter(root, opts.Exclude, opts.Ignore),
		fs:       fw,
		debounce: newDebouncer(opts.Debounce, opts.MaxDelay),
		dirs:     map[string]bool{},
		batches:  make(chan Batch),
		done:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	w.addWatch = fw.Add
	if addWatch != nil {
		w.addWatch = func(dir string) error { return addWatch(fw, dir) }
	}
	if opts.ConfigFile != "" {
		if err := w.watchConfig(opts.ConfigFile); err != nil {
			fw.Close()
			return nil, err
		}
	}
	if opts.Recursive {
		w.addTree(root, false, time.Time{})
	}
	go w.loop()
	return w, nil
}

// watchConfig resolves the config file's path and watches its folder when
// the tree walk will not.
func (w *Watcher) watchConfig(file string) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return fmt.Errorf("resolving the config file %q: %w", file, err)
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return fmt.Errorf("resolving the folder of the config file %q: %w", file, err)
	}
	w.configDir = dir
	w.configPath = filepath.Join(dir, filepath.Base(abs))
	if w.opts.Recursive && w.inTree(dir) && !w.dirIgnored(dir) {
		return nil // the tree walk covers it
	}
	if err := w.addWatch(dir); err != nil {
		return fmt.Errorf("watching the config file's folder %s: %w", dir, err)
	}
	return nil
}

// dirIgnored reports whether dir, below the root, or a folder
// between them is ignored, so the tree walk would not watch it.
func (w *Watcher) dirIgnored(dir string) bool {
	rel := w.rel(dir)
	if rel == "" {
		return false
	}
	parts := strings.Split(rel, "/")
	for i := range parts {
		prefix := strings.Join(parts[:i], "/")
		if err := w.filter.loadDir(prefix); err != nil {
			slog.Warn("reading ignore files", "dir", prefix, "err", err)
		}
		if w.filter.ignored(strings.Join(parts[:i+1], "/"), true) {
			return true
		}
	}
	return false
}

// Root returns the watched folder, resolved through symlinks.
func (w *Watcher) Root() string { return w.root }

// Batches delivers one Batch per burst of changes. Bursts that end while the
// receiver is busy are merged into the next batch it receives, so a slow
// receiver has at most one batch waiting.
func (w *Watcher) Batches() <-chan Batch { return w.batches }

// WatchCount returns the number of folders of the tree being watched.
func (w *Watcher) WatchCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.dirs)
}

// Close stops the watcher and releases every inotify watch.
func (w *Watcher) Close() error {
	var err error
	w.close.Do(func() {
		close(w.done)
		<-w.stopped
		err = w.fs.Close()
	})
	return err
}

func (w *Watcher) warn(msg string) {
	slog.Warn("file watcher", "message", msg)
	if w.opts.Warn != nil {
		w.opts.Warn(msg)
	}
}

// loop turns fsnotify events into batches. A timer runs only while a burst
// is pending.
func (w *Watcher) loop() {
	defer close(w.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var timerC <-chan time.Time
	var out chan Batch
	var outgoing Batch
	for {
		select {
		case <-w.done:
			timer.Stop()
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			w.handle(ev, time.Now())
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.warn("the kernel dropped file events (too many at once); rescanning the project")
				w.rescan(time.Now())
				w.debounce.addOverflow(time.Now())
			} else {
				slog.Warn("file watcher error", "err", err)
			}
		case now := <-timerC:
			timerC = nil
			if !w.debounce.pending() {
				continue
			}
			if now.Before(w.debounce.due()) {
				break // a later change moved the end of the burst
			}
			b := w.debounce.take(time.Now(), w.exists)
			if b.empty() {
				break // only temporary files came and went
			}
			if out == nil {
				outgoing, out = b, w.batches
			} else {
				outgoing.merge(b)
			}
		case out <- outgoing:
			out, outgoing = nil, Batch{}
		}
		if w.debounce.pending() {
			timer.Reset(max(time.Until(w.debounce.due()), 0))
			timerC = timer.C
		}
	}
}

// handle applies one fsnotify event: it keeps the set of watched folders in
// step with the tree and records the change in the pending burst.
func (w *Watcher) handle(ev fsnotify.Event, now time.Time) {
	name := filepath.Clean(ev.Name)
	if w.configPath != "" && name == w.configPath {
		if ev.Op != fsnotify.Chmod {
			w.debounce.addConfig(now)
		}
		return
	}
	if !w.opts.Recursive || !w.inTree(name) {
		return
	}
	rel := w.rel(name)
	if rel == "" {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			w.warn(fmt.Sprintf("the watched folder %s was removed or renamed; changes are no longer seen", w.root))
		}
		return
	}
	if !w.watched(filepath.Dir(name)) {
		return // an event of the config file's folder outside the tree walk
	}

	w.mu.Lock()
	wasDir := w.dirs[name]
	w.mu.Unlock()
	gone := ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)
	if gone && wasDir {
		w.forget(name)
	}
	isDir := wasDir
	if ev.Has(fsnotify.Create) {
		if st, err := os.Lstat(name); err == nil {
			isDir = st.IsDir()
		}
	}
	if w.filter.ignored(rel, isDir) {
		return
	}
	if ev.Op == fsnotify.Chmod && isDir {
		return // a change of a folder's attributes changes none of its files
	}
	if ev.Has(fsnotify.Create) && isDir {
		w.addTree(name, true, now)
	}
	if !isDir && isWatchIgnoreFile(filepath.Base(name)) {
		w.rescan(now)
	}
	w.debounce.addPath(rel, isDir, ev.Has(fsnotify.Create), now)
}

// exists reports whether rel, relative to the root, exists now.
func (w *Watcher) exists(rel string) bool {
	_, err := os.Lstat(filepath.Join(w.root, filepath.FromSlash(rel)))
	return err == nil
}

// inTree reports whether the absolute path is the root or below it.
func (w *Watcher) inTree(p string) bool {
	return p == w.root || strings.HasPrefix(p, w.root+string(filepath.Separator))
}

// rel returns p relative to the root, slash-separated; "" for the root.
func (w *Watcher) rel(p string) string {
	if p == w.root {
		return ""
	}
	return filepath.ToSlash(strings.TrimPrefix(p, w.root+string(filepath.Separator)))
}

func (w *Watcher) watched(dir string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dirs[dir]
}

// addTree watches dir and every folder below it that is not ignored; dir
// itself must not be ignored. With collect set, the files it finds are
// recorded as changed at now, since they may have landed before the watch.
func (w *Watcher) addTree(dir string, collect bool, now time.Time) {
	w.unwatched = 0
	err := filepath.WalkDir(dir, func(p string, entry fs.DirEntry, err error) error {
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				slog.Warn("walking a watched folder", "path", p, "err", err)
			}
			if entry != nil && entry.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		rel := w.rel(p)
		if !entry.IsDir() {
			if collect && !w.filter.ignored(rel, false) {
				w.debounce.addPath(rel, false, true, now)
			}
			return nil
		}
		if p != dir && w.filter.ignored(rel, true) {
			return fs.SkipDir
		}
		if err := w.filter.loadDir(rel); err != nil {
			slog.Warn("reading ignore files", "dir", p, "err", err)
		}
		if w.watched(p) {
			return nil
		}
		if err := w.addWatch(p); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				w.unwatched++
			} else if !errors.Is(err, fs.ErrNotExist) {
				slog.Warn("watching a folder", "path", p, "err", err)
			}
			return fs.SkipDir
		}
		w.mu.Lock()
		w.dirs[p] = true
		w.mu.Unlock()
		return nil
	})
	if err != nil {
		slog.Warn("walking a watched folder", "path", dir, "err", err)
	}
	if w.unwatched > 0 {
		w.warn(fmt.Sprintf("the inotify watch limit is reached (fs.inotify.max_user_watches = %s): "+
			"%d folders and everything below them are not watched, so changes there do not reload; "+
			"raise it with `sysctl fs.inotify.max_user_watches=524288` as root (and in /etc/sysctl.d/ to keep it), "+
			"or ignore large folders in .gitignore or the step's ignore option",
			currentLimit("max_user_watches"), w.unwatched))
	}
}

// forget releases the watches of dir and of every folder below it. The
// kernel keeps watching a renamed folder under its new name, so without this
// its events would carry the old path.
func (w *Watcher) forget(dir string) {
	prefix := dir + string(filepath.Separator)
	w.mu.Lock()
	var gone []string
	for p := range w.dirs {
		if p == dir || strings.HasPrefix(p, prefix) {
			gone = append(gone, p)
			delete(w.dirs, p)
		}
	}
	w.mu.Unlock()
	for _, p := range gone {
		// A folder that was deleted has lost its watch already.
		_ = w.fs.Remove(p)
	}
}

// rescan reads the ignore rules again and brings the watched folders in line
// with the tree: newly ignored folders are released, and folders that appeared
// unseen or are no longer ignored are watched. Files are not reported.
func (w *Watcher) rescan(now time.Time) {
	w.filter.resetRules()
	w.mu.Lock()
	dirs := make([]string, 0, len(w.dirs))
	for p := range w.dirs {
		dirs = append(dirs, p)
	}
	w.mu.Unlock()
	sort.Strings(dirs) // parents first, so rules load top-down
	for _, p := range dirs {
		if !w.watched(p) || p == w.root {
			continue
		}
		rel := w.rel(p)
		if w.parentIgnored(rel) || w.filter.ignored(rel, true) {
			w.forget(p)
		}
	}
	w.addTree(w.root, false, now)
}

// parentIgnored loads the rules of rel's parent folders and reports whether
// one of them is ignored.
func (w *Watcher) parentIgnored(rel string) bool {
	parts := strings.Split(rel, "/")
	for i := 0; i < len(parts)-1; i++ {
		prefix := strings.Join(parts[:i], "/")
		_ = w.filter.loadDir(prefix)
		if w.filter.ignored(strings.Join(parts[:i+1], "/"), true) {
			return true
		}
	}
	_ = w.filter.loadDir(strings.Join(parts[:len(parts)-1], "/"))
	return false
}

// currentLimit returns the value of /proc/sys/fs/inotify/NAME, or "unknown".
func currentLimit(name string) string {
	data, err := os.ReadFile("/proc/sys/fs/inotify/" + name)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}
