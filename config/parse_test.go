package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFindOrder(t *testing.T) {
	// Each row lists the files present and the one Find must pick.
	cases := []struct {
		present []string
		want    string
	}{
		{[]string{"wercker.yml", "wercker.yaml", ".wercker.yml"}, "wercker.yml"},
		{[]string{"wercker.yaml", ".wercker.yml"}, "wercker.yaml"},
		{[]string{".wercker.yml"}, ".wercker.yml"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		for _, name := range c.present {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("box: alpine\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := Find(dir)
		if err != nil {
			t.Errorf("Find with %v: %v", c.present, err)
			continue
		}
		if want := filepath.Join(dir, c.want); got != want {
			t.Errorf("Find with %v = %q, want %q", c.present, got, want)
		}
	}
}

func TestFindNoneFound(t *testing.T) {
	dir := t.TempDir()
	_, err := Find(dir)
	if err == nil {
		t.Fatal("Find in an empty directory succeeded")
	}
	for _, want := range append([]string{dir, "--wercker-yml PATH"}, FileNames...) {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestFindSkipsDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "wercker.yml"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".wercker.yml"), []byte("box: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Find(dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(got) != ".wercker.yml" {
		t.Errorf("Find = %q, want the .wercker.yml file", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "wercker.yml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want an error wrapping fs.ErrNotExist", err)
	}
}

func TestLoadReadsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wercker.yml")
	if err := os.WriteFile(path, []byte("box: alpine\nbuild:\n  steps:\n    - script:\n        code: ls\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Path != path {
		t.Errorf("Path = %q, want %q", f.Path, path)
	}
	if got := f.Pipelines["build"].Pos.File; got != path {
		t.Errorf("pipeline position file = %q, want %q", got, path)
	}
}

func TestEmptyFile(t *testing.T) {
	inputs := []string{"", "\n\n", "# only a comment\n", "---\n", "--- # c\n...\n", "~\n", "\r\n"}
	for _, src := range inputs {
		_, err := Parse(testPath, []byte(src))
		if err == nil || !strings.Contains(err.Error(), "wercker.yml is empty") {
			t.Errorf("Parse(%q) = %v, want an error containing %q", src, err, "wercker.yml is empty")
		}
	}
}

func TestEmptyFileUsesBaseName(t *testing.T) {
	_, err := Parse("/project/.wercker.yml", nil)
	if err == nil || !strings.Contains(err.Error(), ".wercker.yml is empty") {
		t.Errorf("error = %v, want it to contain %q", err, ".wercker.yml is empty")
	}
}

func TestTopLevelSettings(t *testing.T) {
	f := mustParse(t, `
box: golang:1.22
command-timeout: 30
no-response-timeout: 1.5
source-dir: src/app
ignore-file: .buildignore
build:
  steps:
    - script:
        code: go test
`)
	if f.Box == nil || f.Box.ID != "golang:1.22" {
		t.Errorf("Box = %+v, want id golang:1.22", f.Box)
	}
	if f.CommandTimeout != 30*time.Minute {
		t.Errorf("CommandTimeout = %v, want 30m", f.CommandTimeout)
	}
	if f.NoResponseTimeout != 90*time.Second {
		t.Errorf("NoResponseTimeout = %v, want 1m30s", f.NoResponseTimeout)
	}
	if f.SourceDir != "src/app" {
		t.Errorf("SourceDir = %q", f.SourceDir)
	}
	if f.IgnoreFile != ".buildignore" {
		t.Errorf("IgnoreFile = %q", f.IgnoreFile)
	}
	if !reflect.DeepEqual(f.PipelineNames, []string{"build"}) {
		t.Errorf("PipelineNames = %v, want [build]", f.PipelineNames)
	}
}

func TestPipelineNamesInFileOrder(t *testing.T) {
	f := mustParse(t, `
zeta:
  steps: [a]
box: alpine
alpha:
  steps: [b]
mid:
  steps: [c]
`)
	want := []string{"zeta", "alpha", "mid"}
	if !reflect.DeepEqual(f.PipelineNames, want) {
		t.Errorf("PipelineNames = %v, want %v", f.PipelineNames, want)
	}
	for _, name := range want {
		if f.Pipelines[name] == nil || f.Pipelines[name].Name != name {
			t.Errorf("Pipelines[%q] = %+v", name, f.Pipelines[name])
		}
	}
}

func TestTopLevelErrors(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "pipeline scalar", src: "box: a\nignore_file: x\n", line: 2, col: 1,
			want: `pipeline "ignore_file" must be a map with steps, not a string`, hint: `"ignore-file"`},
		{name: "pipeline list", src: "box: a\nbuild:\n  - script\n", line: 2, col: 1,
			want: `pipeline "build" must be a map with steps, not a list`},
		{name: "pipeline null", src: "box: a\nbuild:\n", line: 2, col: 1,
			want: `pipeline "build" is empty`},
		{name: "top level list", src: "- box\n", line: 1, col: 1,
			want: "wercker.yml must be a map of pipelines and settings, not a list"},
		{name: "top level scalar", src: "hello\n", line: 1, col: 1,
			want: "must be a map of pipelines and settings, not a string"},
		{name: "duplicate key", src: "box: a\nbuild:\n  steps: [x]\nbox: b\n", line: 4, col: 1,
			want: `duplicate key "box", first defined at line 1`},
		{name: "timeout text", src: "box: a\ncommand-timeout: soon\n", line: 2, col: 18,
			want: `"command-timeout" must be a number of minutes, not "soon"`},
		{name: "timeout quoted number", src: "box: a\ncommand-timeout: \"30\"\n", line: 2, col: 18,
			want: `"command-timeout" must be a number of minutes, not "30"`},
		{name: "timeout zero", src: "box: a\nno-response-timeout: 0\n", line: 2, col: 22,
			want: `"no-response-timeout" must be a number of minutes greater than 0`},
		{name: "timeout negative", src: "box: a\nno-response-timeout: -5\n", line: 2, col: 22,
			want: "greater than 0, not -5"},
		{name: "timeout list", src: "box: a\ncommand-timeout: [1]\n", line: 2, col: 18,
			want: `"command-timeout" must be a number of minutes, not a list`},
		{name: "timeout infinite", src: "box: a\ncommand-timeout: .inf\n", line: 2, col: 18,
			want: "greater than 0, not .inf"},
		{name: "source-dir list", src: "box: a\nsource-dir: [a]\n", line: 2, col: 13,
			want: `"source-dir" must be a string, not a list`},
		{name: "ignore-file map", src: "box: a\nignore-file: {a: b}\n", line: 2, col: 14,
			want: `"ignore-file" must be a string, not a map`},
		{name: "non-string key", src: "box: a\n[a]: b\n", line: 2, col: 1,
			want: "map key must be a string, not a list"},
	})
}

func TestSyntaxErrors(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "tab indentation", src: "box: a\nbuild:\n  steps:\n    - a\n\t- b\n", line: 5,
			want: "invalid YAML", hint: "tabs"},
		{name: "key indented too far", src: "box: a\nbuild:\n  steps:\n    - a\n   after-steps:\n    - b\n", line: 5,
			want: "invalid YAML: did not find expected key", hint: "indentation"},
		{name: "list item indented too little", src: "a:\n  b:\n    - x\n   - y\n", line: 4,
			want: "invalid YAML"},
		{name: "mapping value in plain scalar", src: "box: a\nbuild:\n  steps:\n    - script:\n      name: x\n         code: y\n", line: 6,
			want: "invalid YAML: mapping values are not allowed"},
		{name: "two colons on the first line", src: "box: a: b\n", line: 1,
			want: "invalid YAML: mapping values are not allowed"},
		{name: "unclosed quote", src: "box: a\nbuild:\n  steps:\n    - \"script\n", line: 4,
			want: "invalid YAML", hint: "never closed"},
		{name: "unknown anchor", src: "box: a\nbuild:\n  steps: *common\n", line: 3, col: 10,
			want: "alias *common refers to an anchor that is not defined", hint: "&common"},
	})
}

func TestErrorsSortedAndAllReported(t *testing.T) {
	src := `box: a
build:
  steps:
    - npm-install:
    - script:
        code: [a]
deploy: x
`
	_, err := Parse(testPath, []byte(src))
	list := Errors(err)
	if len(list) != 3 {
		t.Fatalf("got %d errors, want 3:\n%v", len(list), err)
	}
	if _, ok := err.(ErrorList); !ok {
		t.Errorf("error type = %T, want ErrorList", err)
	}
	for i := 1; i < len(list); i++ {
		if list[i].Pos.Line < list[i-1].Pos.Line {
			t.Errorf("errors not sorted by line:\n%v", err)
		}
	}
	if n := strings.Count(err.Error(), "\n"); n != 2 {
		t.Errorf("ErrorList text has %d line breaks, want 2:\n%v", n, err)
	}
}

func TestSingleErrorIsError(t *testing.T) {
	_, err := Parse(testPath, []byte("box: a\nbuild:\n"))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if got, want := e.Error(), `wercker.yml:2:1: pipeline "build" is empty (hint: `; !strings.HasPrefix(got, want) {
		t.Errorf("Error() = %q, want prefix %q", got, want)
	}
}

func TestErrorFormat(t *testing.T) {
	cases := []struct {
		err  *Error
		want string
	}{
		{&Error{Pos: Pos{File: "w.yml", Line: 3, Column: 5}, Msg: "bad"}, "w.yml:3:5: bad"},
		{&Error{Pos: Pos{File: "w.yml", Line: 3}, Msg: "bad", Hint: "fix it"}, "w.yml:3: bad (hint: fix it)"},
		{&Error{Pos: Pos{File: "w.yml"}, Msg: "bad"}, "w.yml: bad"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
}

func TestSecondDocumentWarns(t *testing.T) {
	f := mustParse(t, "box: a\nbuild:\n  steps: [x]\n---\nother: 1\n")
	w := findWarning(f, "more than one YAML document")
	if w == nil {
		t.Fatalf("no warning about the second document; warnings: %v", f.Warnings)
	}
	if w.Pos.Line != 5 {
		t.Errorf("warning line = %d, want 5", w.Pos.Line)
	}
	if _, ok := f.Pipelines["other"]; ok {
		t.Error("the second document was read")
	}
}

func TestFilePipelineNotFound(t *testing.T) {
	f := mustParse(t, "box: a\nbuild:\n  steps: [x]\ndeploy:\n  steps: [y]\n")
	_, err := f.Pipeline("test")
	want := `pipeline "test" not found in wercker.yml; it defines: build, deploy`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Pipeline(test) error = %v, want it to contain %q", err, want)
	}
}

func TestFilePipelineNoneDefined(t *testing.T) {
	f := mustParse(t, "box: a\n")
	_, err := f.Pipeline("build")
	if err == nil || !strings.Contains(err.Error(), "it defines no pipelines") {
		t.Errorf("Pipeline(build) error = %v, want it to say that no pipelines are defined", err)
	}
}

func TestFilePipelineNoBox(t *testing.T) {
	f := mustParse(t, "build:\n  steps: [x]\ndeploy:\n  box: alpine\n  steps: [y]\n")
	_, err := f.Pipeline("build")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Pipeline(build) error = %v, want an *Error", err)
	}
	if !strings.HasPrefix(e.Msg, "no box: ") {
		t.Errorf("message = %q, want prefix %q", e.Msg, "no box: ")
	}
	if e.Pos.Line != 1 || e.Pos.Column != 1 {
		t.Errorf("position = %v, want line 1 column 1", e.Pos)
	}
	if e.Hint == "" {
		t.Error("no hint")
	}
	if pl, err := f.Pipeline("deploy"); err != nil || pl.Box.ID != "alpine" {
		t.Errorf("Pipeline(deploy) = %v, %v; want the pipeline with its own box", pl, err)
	}
}

func TestCRLFSameAsLF(t *testing.T) {
	src := "box:\n  id: alpine\n  env:\n    a: \"x y\"\nbuild:\n  steps:\n    - script:\n        name: two lines\n        code: |\n          echo a\n          echo b\n    - script:\n        code: >\n          folded\n          text\n    - script:\n        code: plain\n          continued\n"
	lf := mustParse(t, src)
	crlf := mustParse(t, strings.ReplaceAll(src, "\n", "\r\n"))
	if !reflect.DeepEqual(lf, crlf) {
		t.Errorf("CRLF model differs from LF model\nLF:   %+v\nCRLF: %+v", lf.Pipelines["build"].Steps, crlf.Pipelines["build"].Steps)
	}
	if code, _ := crlf.Pipelines["build"].Steps[0].Option("code"); code != "echo a\necho b\n" {
		t.Errorf("block scalar from CRLF input = %q", code)
	}
}
