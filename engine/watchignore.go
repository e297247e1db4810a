package engine

import (
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// watchIgnoreFiles are the gitignore-style files the watcher honours in every
// directory of the tree.
var watchIgnoreFiles = []string{".gitignore", ".werckerignore"}

// vcsDirs are the folders of version-control systems, never watched.
var vcsDirs = map[string]bool{
	".git": true, ".hg": true, ".svn": true, ".bzr": true,
	"_darcs": true, "CVS": true, ".jj": true, ".pijul": true,
}

// watchFilter decides which paths under a watched root are ignored: VCS
// folders, excluded directories, editor temporary files, and the rules of
// .gitignore and .werckerignore files at every level plus extra patterns.
type watchFilter struct {
	root    string
	exclude map[string]bool
	extra   []string
	rules   *Ignore
}

// newWatchFilter returns a filter for root. exclude holds absolute
// directories (werk's working directory); extra holds gitignore-style
// patterns that apply from the root.
func newWatchFilter(root string, exclude, extra []string) *watchFilter {
	f := &watchFilter{root: root, exclude: map[string]bool{}, extra: extra}
	for _, dir := range exclude {
		if dir == "" {
			continue
		}
		f.exclude[filepath.Clean(dir)] = true
		if resolved, err := filepath.EvalSymlinks(dir); err == nil {
			f.exclude[resolved] = true
		}
	}
	f.resetRules()
	return f
}

// resetRules drops the rules of every ignore file read so far. Directories
// must be loaded again, top-down.
func (f *watchFilter) resetRules() {
	f.rules = NewIgnore(f.root, watchIgnoreFiles, f.extra)
}

// loadDir reads the ignore files of the directory rel ("" for the root).
func (f *watchFilter) loadDir(rel string) error { return f.rules.LoadDir(rel) }

// ignored reports whether rel (slash-separated, relative to the root) is
// ignored. Its parent directories must have been loaded and not ignored.
func (f *watchFilter) ignored(rel string, isDir bool) bool {
	if rel == "" {
		return false
	}
	name := path.Base(rel)
	if isDir && (vcsDirs[name] || f.exclude[filepath.Join(f.root, filepath.FromSlash(rel))]) {
		return true
	}
	if !isDir && isEditorTemp(name) {
		return true
	}
	return f.rules.Match(rel, isDir)
}

// isWatchIgnoreFile reports whether name is one of the files whose rules
// decide what is watched.
func isWatchIgnoreFile(name string) bool {
	for _, n := range watchIgnoreFiles {
		if n == name {
			return true
		}
	}
	return false
}

// isEditorTemp reports whether a file name is a temporary or backup file of
// a common editor. These are vim swap files (.name.swp down to .swa, and the
// .swx probe), vim's write probe 4913, and backups ending in ~. Emacs lock
// (.#name) and auto-save (#name#) files and JetBrains safe-write files count
// too.
func isEditorTemp(name string) bool {
	switch {
	case strings.HasSuffix(name, "~"):
		return true
	case strings.HasPrefix(name, ".#"):
		return true
	case len(name) > 2 && strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"):
		return true
	case strings.HasSuffix(name, "___jb_tmp___"), strings.HasSuffix(name, "___jb_old___"):
		return true
	case isVimSwap(name):
		return true
	}
	return isVimWriteProbe(name)
}

// isVimSwap matches ".NAME.swp" and the names vim falls back to when that
// one exists (".swo" down to ".swa"), plus the ".swx" probe.
func isVimSwap(name string) bool {
	if !strings.HasPrefix(name, ".") || len(name) < 5 {
		return false
	}
	ext := name[len(name)-4:]
	if !strings.HasPrefix(ext, ".sw") {
		return false
	}
	c := ext[3]
	return (c >= 'a' && c <= 'p') || c == 'x'
}

// isVimWriteProbe matches the file vim creates to test whether it may write
// a directory: vim tries "4913" and adds 123 while the name exists (the
// backup code of vim's bufwrite.c).
func isVimWriteProbe(name string) bool {
	n, err := strconv.Atoi(name)
	if err != nil || name[0] == '0' || n < 4913 || n > 99999 {
		return false
	}
	return (n-4913)%123 == 0
}
