package config

import (
	"reflect"
	"strings"
	"testing"
)

const workflowPipelines = `box: alpine
build:
  steps: [a]
test:
  steps: [b]
lint:
  steps: [c]
package:
  steps: [d]
`

func TestWorkflowParse(t *testing.T) {
	f := mustParse(t, workflowPipelines+`workflows:
  - name: ci
    pipelines:
      - name: build
      - name: unit
        pipelineName: test
        requires: build
      - name: lint
        requires: [build]
        envFile: lint.env
      - name: package
        requires:
          - unit
          - lint
        artifactPipeline: unit
`)
	if len(f.Workflows) != 1 {
		t.Fatalf("got %d workflows, want 1", len(f.Workflows))
	}
	w := f.Workflows[0]
	if w.Name != "ci" || w.Pos.Line != 11 {
		t.Errorf("workflow name %q at line %d, want ci at line 11", w.Name, w.Pos.Line)
	}
	want := []WorkflowNode{
		{Name: "build", PipelineName: "build", Pos: Pos{File: testPath, Line: 13, Column: 9}},
		{Name: "unit", PipelineName: "test", Requires: []string{"build"}, Pos: Pos{File: testPath, Line: 14, Column: 9}},
		{Name: "lint", PipelineName: "lint", Requires: []string{"build"}, EnvFile: "lint.env", Pos: Pos{File: testPath, Line: 17, Column: 9}},
		{Name: "package", PipelineName: "package", Requires: []string{"unit", "lint"}, ArtifactPipeline: "unit", Pos: Pos{File: testPath, Line: 20, Column: 9}},
	}
	if !reflect.DeepEqual(w.Pipelines, want) {
		t.Errorf("nodes =\n%+v\nwant\n%+v", w.Pipelines, want)
	}
}

func TestWorkflowErrors(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "duplicate node", src: workflowPipelines + `workflows:
  - name: w
    pipelines:
      - name: build
      - name: build
`, line: 14, col: 15, want: `workflow "w" has two pipeline entries named "build" (first at line 13)`},
		{name: "pipeline not defined", src: workflowPipelines + `workflows:
  - name: w
    pipelines:
      - name: build
      - name: deploy
        requires: [build]
`, line: 14, col: 15, want: `workflow "w" runs pipeline "deploy", which is not defined`},
		{name: "pipelineName not defined", src: workflowPipelines + `workflows:
  - name: w
    pipelines:
      - name: build
        pipelineName: compile
`, line: 14, col: 23, want: `runs pipeline "compile", which is not defined`},
		{name: "required node missing", src: workflowPipelines + `workflows:
  - name: w
    pipelines:
      - name: build
      - name: test
        requires: [compile]
`, line: 15, col: 20, want: `pipeline entry "test" of workflow "w" requires "compile", which is not in the workflow`},
		{name: "no root", src: workflowPipelines + `workflows:
  - name: w
    pipelines:
      - name: build
        requires: test
      - name: test
        requires: build
`, line: 11, col: 5, want: `workflow "w" has no root pipeline`},
		{name: "multiple roots", src: workflowPipelines + `workflows:
  - name: w
    pipelines:
      - name: build
      - name: lint
`, line: 11, col: 5, want: `workflow "w" has multiple root pipelines: build, lint`},
		{name: "cycle", src: workflowPipelines + `workflows:
  - name: w
    pipelines:
      - name: build
      - name: test
        requires: [build, lint]
      - name: lint
        requires: [test]
`, line: 14, col: 9, want: `workflow "w" contains cycle test -> lint -> test`},
		{name: "self cycle", src: workflowPipelines + `workflows:
  - name: w
    pipelines:
      - name: build
      - name: test
        requires: [build, test]
`, line: 14, col: 9, want: `workflow "w" contains cycle test -> test`},
		{name: "artifactPipeline not required", src: workflowPipelines + `workflows:
  - name: w
    pipelines:
      - name: build
      - name: test
        requires: build
        artifactPipeline: lint
`, line: 16, col: 27, want: `artifactPipeline "lint" of pipeline entry "test" in workflow "w" is not one of its requires`},
		{name: "duplicate workflow", src: workflowPipelines + `workflows:
  - name: w
    pipelines: [{name: build}]
  - name: w
    pipelines: [{name: build}]
`, line: 13, col: 11, want: `duplicate workflow name "w", first used at line 11`},
		{name: "workflows map", src: workflowPipelines + "workflows:\n  name: w\n", line: 11, col: 3,
			want: "workflows must be a list, not a map"},
		{name: "workflow without name", src: workflowPipelines + "workflows:\n  - pipelines: [{name: build}]\n", line: 11, col: 5,
			want: "workflow has no name"},
		{name: "workflow without pipelines", src: workflowPipelines + "workflows:\n  - name: w\n", line: 11, col: 5,
			want: `workflow "w" has no pipelines`},
		{name: "node without name", src: workflowPipelines + "workflows:\n  - name: w\n    pipelines:\n      - requires: build\n", line: 13, col: 9,
			want: `pipeline entry of workflow "w" has no name`},
		{name: "requires map", src: workflowPipelines + "workflows:\n  - name: w\n    pipelines:\n      - name: build\n      - name: test\n        requires: {a: b}\n", line: 15, col: 19,
			want: `"requires" of a pipeline entry in workflow "w" must be a list of names, not a map`},
	})
}

func TestWorkflowAllProblemsReported(t *testing.T) {
	_, err := Parse(testPath, []byte(workflowPipelines+`workflows:
  - name: w
    pipelines:
      - name: build
      - name: ghost
        requires: [nobody]
      - name: lint
`))
	msg := err.Error()
	for _, want := range []string{`runs pipeline "ghost"`, `requires "nobody"`, "multiple root pipelines: build, lint"} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors do not contain %q:\n%s", want, msg)
		}
	}
}

func TestWorkflowUnknownKeyWarns(t *testing.T) {
	f := mustParse(t, workflowPipelines+`workflows:
  - name: w
    pipelines:
      - name: build
      - name: test
        require: build
        requires: build
`)
	w := findWarning(f, `unknown key "require"`)
	if w == nil {
		t.Fatalf("no warning; warnings: %v", f.Warnings)
	}
	if !strings.Contains(w.Hint, `"requires"`) {
		t.Errorf("hint = %q, want a suggestion of requires", w.Hint)
	}
}
