package engine

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEditorTempNames(t *testing.T) {
	cases := map[string]bool{
		".app.sh.swp":             true,
		".app.sh.swo":             true,
		".app.sh.swx":             true,
		"app.sh~":                 true,
		"4913":                    true,
		"5036":                    true,
		".#app.sh":                true,
		"#app.sh#":                true,
		"app.sh___jb_tmp___":      true,
		"app.sh___jb_old___":      true,
		"app.sh":                  false,
		".icon.svg":               false,
		"4914":                    false,
		"04913":                   false,
		"#":                       false,
		".swp":                    false,
		"notes.swp":               false,
		"main.go":                 false,
		"Makefile":                false,
		".gitignore":              false,
		"app.sh___jb_something__": false,
	}
	for name, want := range cases {
		if got := isEditorTemp(name); got != want {
			t.Errorf("isEditorTemp(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestWatchFilterRules(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".gitignore", "*.log\n/build/\nnode_modules/\n")
	write("src/.gitignore", "generated.go\n!keep.log\n")
	write(".werckerignore", "secret.txt\n")

	f := newWatchFilter(root, []string{filepath.Join(root, ".werk")}, []string{"tmp/", "*.bak"})
	for _, dir := range []string{"", "src"} {
		if err := f.loadDir(dir); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		rel   string
		isDir bool
		want  bool
	}{
		{".git", true, true},
		{"src/.hg", true, true},
		{".werk", true, true},
		{"app.log", false, true},
		{"src/keep.log", false, false},
		{"src/other.log", false, true},
		{"build", true, true},
		{"src/build", true, false},
		{"node_modules", true, true},
		{"web/node_modules", true, true},
		{"src/generated.go", false, true},
		{"generated.go", false, false},
		{"secret.txt", false, true},
		{"tmp", true, true},
		{"notes.bak", false, true},
		{"src/.app.go.swp", false, true},
		{"app.sh", false, false},
		{"src", true, false},
	}
	for _, c := range cases {
		if got := f.ignored(c.rel, c.isDir); got != c.want {
			t.Errorf("ignored(%q, dir=%v) = %v, want %v", c.rel, c.isDir, got, c.want)
		}
	}
}
