package engine

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// Ignore matches paths below a root against gitignore-style files found at
// every level of the tree (git's semantics: the last matching pattern wins, a
// "!" pattern re-includes, a pattern applies to the directory of its file and
// below). Directories must be loaded with LoadDir before their contents are
// matched; walking top-down does that naturally.
type Ignore struct {
	root      string
	fileNames []string

	mu       sync.RWMutex
	patterns []gitignore.Pattern
	matcher  gitignore.Matcher
	loaded   map[string]bool
}

// NewIgnore returns a matcher for root that reads the files named fileNames
// (for example ".werckerignore") in each loaded directory, plus the extra
// patterns, which apply from the root.
func NewIgnore(root string, fileNames []string, extra []string) *Ignore {
	ig := &Ignore{root: root, fileNames: fileNames, loaded: map[string]bool{}}
	for _, p := range extra {
		if p = strings.TrimSpace(p); p != "" && !strings.HasPrefix(p, "#") {
			ig.patterns = append(ig.patterns, gitignore.ParsePattern(p, nil))
		}
	}
	ig.matcher = gitignore.NewMatcher(ig.patterns)
	return ig
}

// LoadDir reads the ignore files of the directory rel (slash-separated,
// relative to the root, "" for the root itself). Loading twice is harmless.
func (ig *Ignore) LoadDir(rel string) error {
	ig.mu.Lock()
	defer ig.mu.Unlock()
	if ig.loaded[rel] {
		return nil
	}
	ig.loaded[rel] = true
	var domain []string
	if rel != "" {
		domain = strings.Split(rel, "/")
	}
	added := false
	for _, name := range ig.fileNames {
		f, err := os.Open(filepath.Join(ig.root, filepath.FromSlash(rel), name))
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return err
		}
		scanner := bufio.NewScanner(f)
		for scanner.Scan() {
			line := strings.TrimSuffix(scanner.Text(), "\r")
			if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
				continue
			}
			ig.patterns = append(ig.patterns, gitignore.ParsePattern(line, domain))
			added = true
		}
		err = scanner.Err()
		f.Close()
		if err != nil {
			return err
		}
	}
	if added {
		ig.matcher = gitignore.NewMatcher(ig.patterns)
	}
	return nil
}

// Match reports whether the slash-separated path rel is ignored.
func (ig *Ignore) Match(rel string, isDir bool) bool {
	ig.mu.RLock()
	m := ig.matcher
	ig.mu.RUnlock()
	return m.Match(strings.Split(rel, "/"), isDir)
}
