package config

import (
	"reflect"
	"testing"
)

// stepsOf parses a build pipeline whose steps list is body, indented by four
// spaces in the source, and returns its steps.
func stepsOf(t *testing.T, body string) []Step {
	t.Helper()
	f := mustParse(t, "box: alpine\nbuild:\n  steps:\n"+body)
	return f.Pipelines["build"].Steps
}

func TestStepShapes(t *testing.T) {
	cases := []struct {
		name string
		body string
		want Step
	}{
		{
			name: "plain string",
			body: "    - npm-install\n",
			want: Step{ID: "npm-install", Owner: "wercker", Name: "npm-install", DisplayName: "npm-install",
				Pos: Pos{File: testPath, Line: 4, Column: 7}},
		},
		{
			name: "options under the id",
			body: "    - script:\n        name: test\n        code: go test\n",
			want: Step{ID: "script", Owner: "wercker", Name: "script", DisplayName: "test",
				Options: []Option{{Key: "code", Value: "go test", Pos: Pos{File: testPath, Line: 6, Column: 9}}},
				Pos:     Pos{File: testPath, Line: 4, Column: 7}},
		},
		{
			name: "options beside the id",
			body: "    - script:\n      name: test\n      code: go test\n",
			want: Step{ID: "script", Owner: "wercker", Name: "script", DisplayName: "test",
				Options: []Option{{Key: "code", Value: "go test", Pos: Pos{File: testPath, Line: 6, Column: 7}}},
				Pos:     Pos{File: testPath, Line: 4, Column: 7}},
		},
		{
			name: "flow map",
			body: "    - {install-packages: {packages: git}}\n",
			want: Step{ID: "install-packages", Owner: "wercker", Name: "install-packages", DisplayName: "install-packages",
				Options: []Option{{Key: "packages", Value: "git", Pos: Pos{File: testPath, Line: 4, Column: 27}}},
				Pos:     Pos{File: testPath, Line: 4, Column: 8}},
		},
		{
			name: "empty options map",
			body: "    - npm-test: {}\n",
			want: Step{ID: "npm-test", Owner: "wercker", Name: "npm-test", DisplayName: "npm-test",
				Pos: Pos{File: testPath, Line: 4, Column: 7}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			steps := stepsOf(t, c.body)
			if len(steps) != 1 {
				t.Fatalf("got %d steps, want 1", len(steps))
			}
			if !reflect.DeepEqual(steps[0], c.want) {
				t.Errorf("input:\n%s\ngot  %+v\nwant %+v", c.body, steps[0], c.want)
			}
		})
	}
}

func TestStepReservedOptions(t *testing.T) {
	steps := stepsOf(t, "    - install-packages:\n        name: packages\n        cwd: sub/dir\n        checkpoint: pkgs\n        packages: git\n")
	s := steps[0]
	if s.DisplayName != "packages" {
		t.Errorf("DisplayName = %q, want %q", s.DisplayName, "packages")
	}
	if s.Cwd != "sub/dir" {
		t.Errorf("Cwd = %q, want %q", s.Cwd, "sub/dir")
	}
	if s.Checkpoint != "pkgs" {
		t.Errorf("Checkpoint = %q, want %q", s.Checkpoint, "pkgs")
	}
	for _, key := range []string{"name", "cwd", "checkpoint"} {
		if _, ok := s.Option(key); ok {
			t.Errorf("reserved key %q is still in Options", key)
		}
	}
	if v, _ := s.Option("packages"); v != "git" {
		t.Errorf("packages = %q, want git", v)
	}
}

func TestStepEmptyNameFallsBack(t *testing.T) {
	s := stepsOf(t, "    - script:\n        name:\n        code: ls\n")[0]
	if s.DisplayName != "script" {
		t.Errorf("DisplayName = %q, want %q", s.DisplayName, "script")
	}
}

func TestStepOptionText(t *testing.T) {
	body := `    - my-step:
        version: 1.10
        count: 010
        flag: yes
        off: off
        empty:
        tilde: ~
        hex: 0x1F
        date: 2017-09-18
        quoted: "a: b"
        single: 'it''s'
        spaces: "  padded  "
        literal: |
          line one
            indented
        folded: >-
          one
          two
        code: |-
          no final newline
`
	want := []Option{
		{Key: "version", Value: "1.10"},
		{Key: "count", Value: "010"},
		{Key: "flag", Value: "yes"},
		{Key: "off", Value: "off"},
		{Key: "empty", Value: ""},
		{Key: "tilde", Value: ""},
		{Key: "hex", Value: "0x1F"},
		{Key: "date", Value: "2017-09-18"},
		{Key: "quoted", Value: "a: b"},
		{Key: "single", Value: "it's"},
		{Key: "spaces", Value: "  padded  "},
		{Key: "literal", Value: "line one\n  indented\n"},
		{Key: "folded", Value: "one two"},
		{Key: "code", Value: "no final newline"},
	}
	s := stepsOf(t, body)[0]
	if len(s.Options) != len(want) {
		t.Fatalf("got %d options, want %d: %+v", len(s.Options), len(want), s.Options)
	}
	for i, w := range want {
		got := s.Options[i]
		if got.Key != w.Key || got.Value != w.Value {
			t.Errorf("option %d = %q: %q, want %q: %q", i, got.Key, got.Value, w.Key, w.Value)
		}
	}
	if pos := s.OptionPos("count"); pos.Line != 6 || pos.Column != 9 {
		t.Errorf("position of count = %v, want line 6 column 9", pos)
	}
}

func TestStepIDGrammar(t *testing.T) {
	cases := []struct {
		text                          string
		id, owner, name, version, url string
		kind                          StepKind
	}{
		{"npm-install", "npm-install", "wercker", "npm-install", "", "", StepExternal},
		{"me/s3-sync", "me/s3-sync", "me", "s3-sync", "", "", StepExternal},
		{"me/s3-sync@1.0.2", "me/s3-sync@1.0.2", "me", "s3-sync", "1.0.2", "", StepExternal},
		{"setup-go@0.1", "setup-go@0.1", "wercker", "setup-go", "0.1", "", StepExternal},
		{"script", "script", "wercker", "script", "", "", StepScript},
		{"internal/watch", "internal/watch", "internal", "watch", "", "", StepInternal},
		{`my-step "file:///home/me/steps/my-step"`, "my-step", "wercker", "my-step", "", "file:///home/me/steps/my-step", StepExternal},
		{`my-step "file://./steps/my-step"`, "my-step", "wercker", "my-step", "", "file://./steps/my-step", StepExternal},
		{`me/tool   "https://example.com/tool.tar.gz"`, "me/tool", "me", "tool", "", "https://example.com/tool.tar.gz", StepExternal},
	}
	for _, c := range cases {
		s := stepsOf(t, "    - '"+c.text+"'\n")[0]
		got := []string{s.ID, s.Owner, s.Name, s.Version, s.URL}
		want := []string{c.id, c.owner, c.name, c.version, c.url}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("step %q: id, owner, name, version, url = %q, want %q", c.text, got, want)
		}
		if s.Kind() != c.kind {
			t.Errorf("step %q: Kind = %v, want %v", c.text, s.Kind(), c.kind)
		}
	}
}

func TestStepIDWithURLAndOptions(t *testing.T) {
	s := stepsOf(t, "    - my-step \"file:///steps/my-step\":\n        greeting: hi\n")[0]
	if s.ID != "my-step" || s.URL != "file:///steps/my-step" {
		t.Errorf("ID, URL = %q, %q", s.ID, s.URL)
	}
	if v, _ := s.Option("greeting"); v != "hi" {
		t.Errorf("greeting = %q, want hi", v)
	}
}

func TestStepErrors(t *testing.T) {
	head := "box: alpine\nbuild:\n  steps:\n"
	runErrCases(t, []errCase{
		{name: "one key with null", src: head + "    - npm-install:\n", line: 4, col: 7,
			want: `step "npm-install" has no options`, hint: "indent the options"},
		{name: "one key with scalar", src: head + "    - script: echo hi\n", line: 4, col: 7,
			want: `step "script" has no options`},
		{name: "one key with list", src: head + "    - script:\n        - code\n", line: 5, col: 9,
			want: `options of step "script" must be a map, not a list`},
		{name: "empty entry", src: head + "    -\n    - a\n", line: 4, col: 6,
			want: "step entry is empty"},
		{name: "empty map", src: head + "    - {}\n", line: 4, col: 7,
			want: "step entry is an empty map"},
		{name: "list entry", src: head + "    - [a, b]\n", line: 4, col: 7,
			want: "step entry must be a step id or a map, not a list", hint: "extra `-`"},
		{name: "nested list entry", src: head + "    -\n      - a\n", line: 5, col: 7,
			want: "step entry must be a step id or a map, not a list"},
		{name: "options under and beside", src: head + "    - script:\n        code: a\n      name: b\n", line: 4, col: 7,
			want: `step "script" has options both under it and beside it`},
		{name: "option map value", src: head + "    - script:\n        code:\n          a: b\n", line: 6, col: 11,
			want: `option "code" of step "script" must be a string, not a map`},
		{name: "option list value", src: head + "    - script:\n        code: [a]\n", line: 5, col: 15,
			want: `option "code" of step "script" must be a string, not a list`},
		{name: "name option list", src: head + "    - script:\n        name: [a]\n", line: 5, col: 15,
			want: `option "name" of step "script" must be a string, not a list`},
		{name: "duplicate option", src: head + "    - script:\n        code: a\n        code: b\n", line: 6, col: 9,
			want: `duplicate key "code", first defined at line 5`},
		{name: "space in id", src: head + "    - npm install\n", line: 4, col: 7,
			want: `step id "npm install" contains a space`, hint: "script step"},
		{name: "bad URL scheme", src: head + "    - 'my-step \"ftp://host/x\"'\n", line: 4, col: 7,
			want: `step URL "ftp://host/x" must start with file://, http:// or https://`},
		{name: "bad URL quoting", src: head + "    - 'my-step \"file:///x'\n", line: 4, col: 7,
			want: "has a URL that is not a valid quoted string"},
		{name: "empty version", src: head + "    - me/step@\n", line: 4, col: 7,
			want: `step id "me/step@" has an empty version after @`},
		{name: "empty owner", src: head + "    - /step\n", line: 4, col: 7,
			want: `invalid step id "/step"`},
		{name: "two slashes", src: head + "    - a/b/c\n", line: 4, col: 7,
			want: `invalid step id "a/b/c"`},
		{name: "steps as map", src: head + "    shellcheck:\n      files: a.sh\n", line: 4, col: 5,
			want: `steps of pipeline "build" must be a list of steps, not a map`, hint: "`- `"},
		{name: "steps as scalar", src: head + "    npm-install\n", line: 4, col: 5,
			want: `steps of pipeline "build" must be a list of steps, not a string`},
	})
}

func TestBuiltinStepChecks(t *testing.T) {
	head := "box: alpine\nbuild:\n  steps:\n"
	runErrCases(t, []errCase{
		{name: "watch reload word", src: head + "    - internal/watch:\n        code: make\n        reload: maybe\n", line: 6, col: 9,
			want: `option "reload" of step "internal/watch" must be true or false, not "maybe"`},
		{name: "watch reload empty", src: head + "    - internal/watch:\n        reload:\n", line: 5, col: 9,
			want: `option "reload" of step "internal/watch" must be true or false, not ""`},
		{name: "docker-push without repository", src: head + "    - internal/docker-push:\n        tag: latest\n", line: 4, col: 7,
			want: `step "internal/docker-push" needs the option "repository"`},
		{name: "scratch-push without repository", src: head + "    - internal/docker-scratch-push\n", line: 4, col: 7,
			want: `step "internal/docker-scratch-push" needs the option "repository"`},
		{name: "docker-push empty repository", src: head + "    - internal/docker-push:\n        repository: \"\"\n", line: 4, col: 7,
			want: `needs the option "repository"`},
	})
}

func TestBuiltinStepValid(t *testing.T) {
	words := []string{"true", "false", "yes", "no", "1", "0", "t", "f", "TRUE", "No", "on", "off"}
	for _, w := range words {
		s := stepsOf(t, "    - internal/watch:\n        reload: "+w+"\n")[0]
		if v, _ := s.Option("reload"); v != w {
			t.Errorf("reload %q stored as %q, want the text unchanged", w, v)
		}
	}
	s := stepsOf(t, "    - internal/docker-push:\n        repository: me/app\n")[0]
	if s.Kind() != StepInternal {
		t.Errorf("Kind = %v, want StepInternal", s.Kind())
	}
}

func TestUnknownBuiltinWarns(t *testing.T) {
	f := mustParse(t, "box: alpine\nbuild:\n  steps:\n    - internal/frobnicate\n")
	w := findWarning(f, `unknown built-in step "internal/frobnicate"`)
	if w == nil {
		t.Fatalf("no warning; warnings: %v", f.Warnings)
	}
	if w.Pos.Line != 4 || w.Pos.Column != 7 {
		t.Errorf("warning position = %v, want 4:7", w.Pos)
	}
}

func TestParseBool(t *testing.T) {
	for _, s := range []string{"true", "True", "YES", "y", "on", "t", "1", " true "} {
		if v, ok := ParseBool(s); !v || !ok {
			t.Errorf("ParseBool(%q) = %v, %v; want true, true", s, v, ok)
		}
	}
	for _, s := range []string{"false", "No", "n", "OFF", "f", "0"} {
		if v, ok := ParseBool(s); v || !ok {
			t.Errorf("ParseBool(%q) = %v, %v; want false, true", s, v, ok)
		}
	}
	for _, s := range []string{"", "maybe", "2", "truee"} {
		if _, ok := ParseBool(s); ok {
			t.Errorf("ParseBool(%q) accepted", s)
		}
	}
}
