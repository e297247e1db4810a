package config

import (
	"io"
	"os"
	"testing"
)

// fuzzSeeds are small documents that reach the unusual paths of the parser:
// aliases, merges, odd step shapes and broken YAML.
var fuzzSeeds = []string{
	"",
	"box: a\n",
	"box: a\nbuild:\n  steps:\n    - script:\n      code: x\n",
	"box: a\nbuild:\n  steps: &s\n    - a\ndeploy:\n  steps:\n    - <<: *s\n",
	"a: &x {<<: *x}\n",
	"build: &b\n  <<: *b\n",
	"box: a\nbuild:\n  steps:\n    - {}\n    - []\n    -\n    - a: [b]\n",
	"workflows:\n  - name: w\n    pipelines:\n      - name: a\n        requires: [a]\n",
	"box: a\nbuild:\n  steps:\n\t- x\n",
	"services: [{id: a, env: {a: 1, A: 2}}]\n",
	"box: {id: a, ports: {x: 1}, volumes: [1, [2]]}\n",
	"? [a]\n: b\n",
	"box: a\nx: *missing\n",
	"--- a\n--- b\n",
	"box: a\nbuild:\n  steps:\n    - 'x \"file://\"'\n    - 'y \"ftp://\"'\n",
}

func FuzzParse(f *testing.F) {
	for _, seed := range fuzzSeeds {
		f.Add([]byte(seed))
	}
	for _, path := range corpusPaths() {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := parseUnguarded("fuzz.yml", data)
		if err == nil {
			checkFuzzFile(t, file)
			return
		}
		list := Errors(err)
		if len(list) == 0 {
			t.Fatalf("error %v (%T) is neither *Error nor ErrorList", err, err)
		}
		for i, e := range list {
			if e.Pos.File != "fuzz.yml" || e.Pos.Line < 0 || e.Pos.Column < 0 {
				t.Errorf("bad position %+v in %v", e.Pos, e)
			}
			if i > 0 && list[i-1].Pos.Line > e.Pos.Line {
				t.Errorf("errors not sorted:\n%v", err)
			}
		}
	})
}

func checkFuzzFile(t *testing.T, file *File) {
	if file == nil {
		t.Fatal("Parse returned neither a file nor an error")
	}
	for _, name := range file.PipelineNames {
		if file.Pipelines[name] == nil {
			t.Fatalf("pipeline %q is listed but missing", name)
		}
		_, _ = file.Pipeline(name)
	}
	Describe(io.Discard, file)
}
