package config

import (
	"reflect"
	"testing"
)

func TestAnchorWholeStepList(t *testing.T) {
	f := mustParse(t, `
box: a
build:
  steps: &common
    - npm-install
    - script:
        code: npm test
test:
  steps: *common
`)
	build, test := f.Pipelines["build"].Steps, f.Pipelines["test"].Steps
	if !reflect.DeepEqual(build, test) {
		t.Errorf("steps: *common gave\n%+v\nwant\n%+v", test, build)
	}
	if len(test) != 2 {
		t.Errorf("got %d steps, want 2", len(test))
	}
}

func TestAnchorOneStep(t *testing.T) {
	f := mustParse(t, `
box: a
build:
  steps:
    - script: &announce
        name: announce
        code: echo start
    - npm-test
deploy:
  steps:
    - npm-install
    - script: *announce
    - &last
      script:
        code: echo done
  after-steps:
    - *last
`)
	deploy := f.Pipelines["deploy"]
	if got := stepIDs(deploy.Steps); !reflect.DeepEqual(got, []string{"npm-install", "script", "script"}) {
		t.Fatalf("steps = %v", got)
	}
	if deploy.Steps[1].DisplayName != "announce" {
		t.Errorf("aliased options: DisplayName = %q, want announce", deploy.Steps[1].DisplayName)
	}
	if len(deploy.AfterSteps) != 1 {
		t.Fatalf("after-steps = %v", deploy.AfterSteps)
	}
	if code, _ := deploy.AfterSteps[0].Option("code"); code != "echo done" {
		t.Errorf("- *last: code = %q, want %q", code, "echo done")
	}
}

func TestMergeKeyIntoMap(t *testing.T) {
	f := mustParse(t, `
box:
  id: node
  env: &env
    STAGE: test
    REGION: eu
build:
  box:
    id: node
    env:
      <<: *env
      STAGE: prod
  steps:
    - script: &base
        name: base
        code: echo base
    - script:
        <<: *base
        code: echo override
    - script:
        <<: [*base, {cwd: sub}]
`)
	// Merged keys take the place of the merge key, and explicit keys win.
	wantEnv := []EnvVar{{"REGION", "eu"}, {"STAGE", "prod"}}
	if got := f.Pipelines["build"].Box.Env; !reflect.DeepEqual(got, wantEnv) {
		t.Errorf("merged env = %+v, want %+v", got, wantEnv)
	}
	steps := f.Pipelines["build"].Steps
	if steps[1].DisplayName != "base" {
		t.Errorf("merged name = %q, want base", steps[1].DisplayName)
	}
	if code, _ := steps[1].Option("code"); code != "echo override" {
		t.Errorf("code = %q, want the explicit value", code)
	}
	if steps[2].Cwd != "sub" || steps[2].DisplayName != "base" {
		t.Errorf("merge of a list of maps: cwd = %q, name = %q", steps[2].Cwd, steps[2].DisplayName)
	}
}

func TestMergeKeyErrors(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "merge of a list inside a list", src: `box: a
build:
  steps: &steps
    - npm-install
deploy:
  steps:
    - <<: *steps
`, line: 7, col: 7, want: "merge key \"<<\" needs a map, but alias *steps is a list", hint: "write the alias alone"},
		{name: "merge of a scalar", src: "box: a\nbuild:\n  <<: plain\n  steps: [x]\n", line: 3, col: 3,
			want: "merge key \"<<\" needs a map, but its value is a string", hint: "merge keys merge maps"},
		{name: "merge list item not a map", src: "box: a\nx: &x [1]\nbuild:\n  <<: [*x]\n  steps: [x]\n", line: 4, col: 8,
			want: "merge key \"<<\" needs maps, but this item is a list"},
		{name: "alias of a list as one step", src: `box: a
build:
  steps: &steps
    - npm-install
deploy:
  steps:
    - *steps
`, line: 7, col: 7, want: "step entry must be a step id or a map, not a list", hint: "`steps: *name`"},
	})
}

func TestSelfReferenceDoesNotHang(t *testing.T) {
	inputs := []string{
		"box: a\nbuild: &b\n  <<: *b\n  steps: [x]\n",
		"box: a\nbuild:\n  steps: &s\n    - *s\n",
		"box: a\nbuild: &b\n  steps: [x]\n  deploy-target:\n    - <<: *b\n",
	}
	for _, src := range inputs {
		if _, err := Parse(testPath, []byte(src)); err == nil {
			t.Errorf("Parse of a self-referencing document succeeded\ninput:\n%s", src)
		}
	}
}

func TestAliasedErrorReportedOnce(t *testing.T) {
	src := "box: a\nbuild:\n  steps: &s\n    - script:\n        code: [x]\ndeploy:\n  steps: *s\n"
	_, err := Parse(testPath, []byte(src))
	if got := len(Errors(err)); got != 1 {
		t.Errorf("got %d errors, want the problem of the shared list once:\n%v", got, err)
	}
}
