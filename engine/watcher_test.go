package engine

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// batchWait bounds every wait for a batch; generous for a loaded machine.
const batchWait = 30 * time.Second

// testDebounce keeps the watcher tests quick; the logic does not depend on it.
const testDebounce = 30 * time.Millisecond

func writeFile(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rename(t *testing.T, root, from, to string) {
	t.Helper()
	if err := os.Rename(filepath.Join(root, from), filepath.Join(root, to)); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, root, rel string) {
	t.Helper()
	if err := os.Remove(filepath.Join(root, rel)); err != nil {
		t.Fatal(err)
	}
}

func startWatcher(t *testing.T, opts WatchOptions) *Watcher {
	t.Helper()
	if opts.Debounce == 0 {
		opts.Debounce = testDebounce
	}
	opts.Recursive = true
	w, err := NewWatcher(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// batchesUntil writes the sentinel file and returns every batch received
// up to and including the first one that names it. Events are delivered in
// order, so a batch caused by earlier changes arrives before or with it.
func batchesUntil(t *testing.T, w *Watcher, sentinel string) []Batch {
	t.Helper()
	writeFile(t, w.Root(), sentinel, "sentinel")
	var got []Batch
	deadline := time.After(batchWait)
	for {
		select {
		case b := <-w.Batches():
			got = append(got, b)
			if slices.Contains(b.Paths, sentinel) {
				return got
			}
		case <-deadline:
			t.Fatalf("no batch named %s within %s; got %+v", sentinel, batchWait, got)
		}
	}
}

func nextBatch(t *testing.T, w *Watcher) Batch {
	t.Helper()
	select {
	case b := <-w.Batches():
		return b
	case <-time.After(batchWait):
		t.Fatalf("no batch within %s", batchWait)
	}
	return Batch{}
}

func TestWatcherVimSaveWithBackup(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "app.sh", "v0")
	w := startWatcher(t, WatchOptions{Root: root})

	for i, content := range []string{"v1", "v2"} {
		// vim with backup on: probe the folder, move the original aside as
		// the backup, write the new file in place.
		writeFile(t, root, "4913", "")
		remove(t, root, "4913")
		rename(t, root, "app.sh", "app.sh~")
		writeFile(t, root, "app.sh", content)
		b := nextBatch(t, w)
		if want := []string{"app.sh"}; !slices.Equal(b.Paths, want) {
			t.Errorf("save %d: paths = %q, want %q", i+1, b.Paths, want)
		}
	}
	rest := batchesUntil(t, w, "sentinel.txt")
	if len(rest) != 1 || !slices.Equal(rest[0].Paths, []string{"sentinel.txt"}) {
		t.Errorf("batches after the two saves = %+v, want only the sentinel's", rest)
	}
}

func TestWatcherJetBrainsSafeWrite(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "app.sh", "v0")
	w := startWatcher(t, WatchOptions{Root: root})

	writeFile(t, root, "app.sh___jb_tmp___", "v1")
	rename(t, root, "app.sh", "app.sh___jb_old___")
	rename(t, root, "app.sh___jb_tmp___", "app.sh")
	remove(t, root, "app.sh___jb_old___")

	b := nextBatch(t, w)
	if want := []string{"app.sh"}; !slices.Equal(b.Paths, want) {
		t.Errorf("paths = %q, want %q", b.Paths, want)
	}
	rest := batchesUntil(t, w, "sentinel.txt")
	if len(rest) != 1 || !slices.Equal(rest[0].Paths, []string{"sentinel.txt"}) {
		t.Errorf("batches after the save = %+v, want only the sentinel's", rest)
	}
}

func TestWatcherIgnoresVimSwapFile(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "app.sh", "v0")
	w := startWatcher(t, WatchOptions{Root: root})

	for i := 0; i < 5; i++ {
		writeFile(t, root, ".app.sh.swp", strings.Repeat("x", i))
	}
	got := batchesUntil(t, w, "sentinel.txt")
	if len(got) != 1 || !slices.Equal(got[0].Paths, []string{"sentinel.txt"}) {
		t.Errorf("batches = %+v, want only the sentinel's", got)
	}
}

func TestWatcherNewNestedFolders(t *testing.T) {
	root := t.TempDir()
	w := startWatcher(t, WatchOptions{Root: root})

	if err := os.MkdirAll(filepath.Join(root, "src/new/deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "src/new/deep/a.txt", "x")
	b := nextBatch(t, w)
	if want := []string{"src/new/deep/a.txt"}; !slices.Equal(b.Paths, want) {
		t.Errorf("paths = %q, want %q", b.Paths, want)
	}

	writeFile(t, root, "src/new/deep/b.txt", "y")
	b = nextBatch(t, w)
	if want := []string{"src/new/deep/b.txt"}; !slices.Equal(b.Paths, want) {
		t.Errorf("paths after a change in the new folder = %q, want %q", b.Paths, want)
	}
}

func TestWatcherRenamedFolderRearms(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "src/old/a.txt", "x")
	writeFile(t, root, "src/old/sub/b.txt", "x")
	w := startWatcher(t, WatchOptions{Root: root})

	rename(t, root, "src/old", "src/renamed")
	nextBatch(t, w)
	writeFile(t, root, "src/renamed/sub/b.txt", "changed")
	b := nextBatch(t, w)
	if want := []string{"src/renamed/sub/b.txt"}; !slices.Equal(b.Paths, want) {
		t.Errorf("paths = %q, want %q (events must carry the new name)", b.Paths, want)
	}

	if err := os.RemoveAll(filepath.Join(root, "src/renamed")); err != nil {
		t.Fatal(err)
	}
	nextBatch(t, w)
	if got := w.WatchCount(); got != 2 {
		t.Errorf("watched folders after the removal = %d, want 2 (the root and src)", got)
	}
}

func TestWatcherSkipsIgnoredFolders(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, ".gitignore", "node_modules/\n")
	writeFile(t, root, "web/.gitignore", "dist/\n")
	for _, dir := range []string{"node_modules/a/b", "web/dist/x", ".git/objects", ".werk/logs", "cache/y"} {
		writeFile(t, root, dir+"/f", "x")
	}
	writeFile(t, root, "web/src/app.js", "x")
	w := startWatcher(t, WatchOptions{Root: root, Exclude: []string{filepath.Join(root, ".werk")}, Ignore: []string{"cache/"}})

	// root, web, web/src
	if got := w.WatchCount(); got != 3 {
		t.Errorf("watched folders = %d, want 3", got)
	}
	writeFile(t, root, "node_modules/a/b/f", "changed")
	writeFile(t, root, "web/dist/x/f", "changed")
	writeFile(t, root, ".werk/logs/f", "changed")
	writeFile(t, root, "app.log~", "changed")
	got := batchesUntil(t, w, "web/src/app.js")
	if len(got) != 1 || !slices.Equal(got[0].Paths, []string{"web/src/app.js"}) {
		t.Errorf("batches = %+v, want only web/src/app.js", got)
	}
}

func TestWatcherGitignoreEditApplies(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "gen/out.txt", "x")
	w := startWatcher(t, WatchOptions{Root: root})
	if got := w.WatchCount(); got != 2 {
		t.Fatalf("watched folders = %d, want 2", got)
	}

	writeFile(t, root, ".gitignore", "gen/\n")
	b := nextBatch(t, w)
	if !slices.Contains(b.Paths, ".gitignore") {
		t.Errorf("paths = %q, want .gitignore", b.Paths)
	}
	if got := w.WatchCount(); got != 1 {
		t.Errorf("watched folders after ignoring gen/ = %d, want 1", got)
	}
	writeFile(t, root, "gen/out.txt", "changed")
	got := batchesUntil(t, w, "sentinel.txt")
	if len(got) != 1 {
		t.Errorf("batches = %+v, want only the sentinel's", got)
	}
}

func TestWatcherSymlinkedRoot(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "project")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	w := startWatcher(t, WatchOptions{Root: link})
	writeFile(t, link, "app.sh", "x")
	b := nextBatch(t, w)
	if want := []string{"app.sh"}; !slices.Equal(b.Paths, want) {
		t.Errorf("paths = %q, want %q", b.Paths, want)
	}
}

func TestWatcherReportsConfigFile(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "wercker.yml", "box: busybox\n")
	w := startWatcher(t, WatchOptions{Root: root, ConfigFile: filepath.Join(root, "wercker.yml")})

	// Saved as vim does, through a backup.
	rename(t, root, "wercker.yml", "wercker.yml~")
	writeFile(t, root, "wercker.yml", "box: busybox:1\n")
	b := nextBatch(t, w)
	if !b.ConfigChanged {
		t.Error("ConfigChanged = false after editing wercker.yml")
	}
	if len(b.Paths) != 0 {
		t.Errorf("paths = %q, want none: wercker.yml is reported apart", b.Paths)
	}
}

func TestWatcherConfigOnlyWithoutReload(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "wercker.yml", "box: busybox\n")
	w, err := NewWatcher(WatchOptions{Root: root, ConfigFile: filepath.Join(root, "wercker.yml"), Debounce: testDebounce})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	writeFile(t, root, "app.sh", "x")
	writeFile(t, root, "wercker.yml", "box: busybox:1\n")
	b := nextBatch(t, w)
	if !b.ConfigChanged || len(b.Paths) != 0 {
		t.Errorf("batch = %+v, want only ConfigChanged", b)
	}
}

func TestWatcherWatchLimit(t *testing.T) {
	root := t.TempDir()
	for _, dir := range []string{"a", "b", "c", "d"} {
		writeFile(t, root, dir+"/f", "x")
	}
	var mu sync.Mutex
	var warnings []string
	added := 0
	w, err := newWatcher(WatchOptions{
		Root: root, Recursive: true, Debounce: testDebounce,
		Warn: func(msg string) {
			mu.Lock()
			warnings = append(warnings, msg)
			mu.Unlock()
		},
	}, func(fw *fsnotify.Watcher, dir string) error {
		if added == 3 {
			return syscall.ENOSPC
		}
		added++
		return fw.Add(dir)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	mu.Lock()
	if len(warnings) != 1 || !strings.Contains(warnings[0], "max_user_watches = ") || !strings.Contains(warnings[0], "2 folders") {
		t.Errorf("warnings = %q, want one naming the limit and 2 folders", warnings)
	}
	mu.Unlock()
	writeFile(t, root, "a/f", "changed")
	b := nextBatch(t, w)
	if want := []string{"a/f"}; !slices.Equal(b.Paths, want) {
		t.Errorf("paths in a watched folder = %q, want %q", b.Paths, want)
	}
}

func TestWatcherCloseReleasesWatches(t *testing.T) {
	before := inotifyWatches(t)
	root := t.TempDir()
	writeFile(t, root, "a/b/c/f", "x")
	w, err := NewWatcher(WatchOptions{Root: root, Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := inotifyWatches(t); got != before+4 {
		t.Errorf("inotify watches while watching = %d, want %d", got, before+4)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := inotifyWatches(t); got != before {
		t.Errorf("inotify watches after Close = %d, want %d", got, before)
	}
}

// inotifyWatches counts the inotify watches this process holds, from the
// "inotify wd:" lines of /proc/self/fdinfo.
func inotifyWatches(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fdinfo")
	if err != nil {
		t.Skipf("no /proc/self/fdinfo: %v", err)
	}
	n := 0
	for _, fd := range fds {
		data, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", fd.Name()))
		if err != nil {
			continue
		}
		n += strings.Count(string(data), "inotify wd:")
	}
	return n
}

func TestWatcherDropsSedTemporaryFile(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "app.sh", "echo old\n")
	writeFile(t, root, "wercker.yml", "box: busybox\n")
	w := startWatcher(t, WatchOptions{Root: root, ConfigFile: filepath.Join(root, "wercker.yml")})

	// sed -i writes a temporary file next to the original and renames it
	// over the original.
	sed := func(file string) {
		t.Helper()
		cmd := exec.Command("sed", "-i", "s/old/new/", file)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sed -i %s: %v: %s", file, err, out)
		}
	}
	sed("app.sh")
	b := nextBatch(t, w)
	if want := []string{"app.sh"}; !slices.Equal(b.Paths, want) {
		t.Errorf("paths = %q, want %q", b.Paths, want)
	}
	sed("wercker.yml")
	b = nextBatch(t, w)
	if !b.ConfigChanged {
		t.Error("ConfigChanged = false after sed -i on wercker.yml")
	}
	if len(b.Paths) != 0 {
		t.Errorf("paths after sed -i on wercker.yml = %q, want none", b.Paths)
	}
}
