package config

import (
	"reflect"
	"testing"
)

func stepIDs(steps []Step) []string {
	var ids []string
	for _, s := range steps {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestPipelineFields(t *testing.T) {
	f := mustParse(t, `
box: golang
build:
  base-path: /go/src/example.com/app/
  docker: true
  steps:
    - a
    - b
  after-steps:
    - notify
`)
	pl := f.Pipelines["build"]
	if pl.BasePath != "/go/src/example.com/app" {
		t.Errorf("BasePath = %q, want the trailing slash removed", pl.BasePath)
	}
	if !pl.Docker {
		t.Error("Docker = false, want true")
	}
	if got := stepIDs(pl.Steps); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Steps = %v", got)
	}
	if got := stepIDs(pl.AfterSteps); !reflect.DeepEqual(got, []string{"notify"}) {
		t.Errorf("AfterSteps = %v", got)
	}
	if pl.Box != f.Box {
		t.Errorf("Box = %+v, want the top-level box", pl.Box)
	}
	if pl.Pos.Line != 3 || pl.Pos.Column != 1 {
		t.Errorf("Pos = %v, want 3:1", pl.Pos)
	}
}

func TestPipelineDockerWords(t *testing.T) {
	for word, want := range map[string]bool{"true": true, "yes": true, "false": false, "no": false, "on": true} {
		f := mustParse(t, "box: a\nbuild:\n  docker: "+word+"\n  steps: [x]\n")
		if got := f.Pipelines["build"].Docker; got != want {
			t.Errorf("docker: %s gave %v, want %v", word, got, want)
		}
	}
}

func TestDeployTargets(t *testing.T) {
	f := mustParse(t, `
box: a
deploy:
  steps:
    - main-step
  production:
    - prod-step
  staging:
    - stage-step
  after-steps:
    - notify
`)
	pl := f.Pipelines["deploy"]
	if !reflect.DeepEqual(pl.TargetNames, []string{"production", "staging"}) {
		t.Errorf("TargetNames = %v, want [production staging]", pl.TargetNames)
	}
	cases := map[string]string{"production": "prod-step", "staging": "stage-step", "": "main-step", "unknown": "main-step"}
	for target, want := range cases {
		if got := stepIDs(pl.StepsFor(target)); !reflect.DeepEqual(got, []string{want}) {
			t.Errorf("StepsFor(%q) = %v, want [%s]", target, got, want)
		}
	}
}

func TestPipelineTargetsOnly(t *testing.T) {
	f := mustParse(t, "box: a\ndeploy:\n  dockerhub:\n    - internal/docker-push:\n        repository: me/app\n")
	pl := f.Pipelines["deploy"]
	if len(pl.Steps) != 0 || len(pl.Targets["dockerhub"]) != 1 {
		t.Errorf("Steps = %v, Targets = %v", pl.Steps, pl.Targets)
	}
	if len(f.Warnings) != 0 {
		t.Errorf("unexpected warnings: %v", f.Warnings)
	}
}

func TestPipelineWithoutStepsWarns(t *testing.T) {
	f := mustParse(t, "box: a\nbuild:\n  box: b\n")
	w := findWarning(f, `pipeline "build" has no steps`)
	if w == nil || w.Pos.Line != 2 {
		t.Errorf("warning = %v, want one at line 2; warnings: %v", w, f.Warnings)
	}
}

func TestNullTargetWarns(t *testing.T) {
	f := mustParse(t, "box: a\ndeploy:\n  steps: [x]\n  production:\n")
	if findWarning(f, `deploy target "production" of pipeline "deploy" has no steps`) == nil {
		t.Errorf("no warning; warnings: %v", f.Warnings)
	}
	if _, ok := f.Pipelines["deploy"].Targets["production"]; !ok {
		t.Error("the empty target was dropped")
	}
}

func TestPipelineBoxAndServicesResolution(t *testing.T) {
	f := mustParse(t, `
box: top
services:
  - redis
  - mongo
inherit:
  steps: [a]
own:
  box: mine
  services:
    - postgres
  steps: [a]
empty-services:
  services: []
  steps: [a]
null-services:
  services:
  steps: [a]
`)
	cases := []struct {
		pipeline string
		box      string
		services []string
	}{
		{"inherit", "top", []string{"redis", "mongo"}},
		{"own", "mine", []string{"postgres"}},
		{"empty-services", "top", []string{"redis", "mongo"}},
		{"null-services", "top", []string{"redis", "mongo"}},
	}
	for _, c := range cases {
		pl := f.Pipelines[c.pipeline]
		if pl.Box == nil || pl.Box.ID != c.box {
			t.Errorf("%s: box = %+v, want %s", c.pipeline, pl.Box, c.box)
		}
		var got []string
		for _, s := range pl.Services {
			got = append(got, s.ID)
		}
		if !reflect.DeepEqual(got, c.services) {
			t.Errorf("%s: services = %v, want %v", c.pipeline, got, c.services)
		}
	}
}

func TestPipelineErrors(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "relative base-path", src: "box: a\nbuild:\n  base-path: src/app\n  steps: [x]\n", line: 3, col: 14,
			want: `base-path "src/app" must be an absolute path`},
		{name: "root base-path", src: "box: a\nbuild:\n  base-path: /\n  steps: [x]\n", line: 3, col: 14,
			want: `base-path "/" must not be the root directory`},
		{name: "base-path list", src: "box: a\nbuild:\n  base-path: [a]\n  steps: [x]\n", line: 3, col: 14,
			want: `"base-path" must be a string, not a list`},
		{name: "docker word", src: "box: a\nbuild:\n  docker: maybe\n  steps: [x]\n", line: 3, col: 11,
			want: `"docker" of pipeline "build" must be true or false, not "maybe"`},
		{name: "target scalar", src: "box: a\nbuild:\n  steps: [x]\n  step: y\n", line: 4, col: 3,
			want: `deploy target "step" of pipeline "build" must be a list of steps, not a string`, hint: `"steps"`},
		{name: "target map", src: "box: a\ndeploy:\n  production:\n    script:\n      code: x\n", line: 3, col: 3,
			want: `deploy target "production" of pipeline "deploy" must be a list of steps, not a map`},
		{name: "after-steps map", src: "box: a\nbuild:\n  steps: [x]\n  after-steps:\n    notify: {}\n", line: 5, col: 5,
			want: `after-steps of pipeline "build" must be a list of steps, not a map`},
		{name: "pipeline box list", src: "box: a\nbuild:\n  box: [a]\n  steps: [x]\n", line: 3, col: 8,
			want: "box must be an image name or a map with an id, not a list"},
		{name: "pipeline services map item", src: "box: a\nbuild:\n  services:\n    - {}\n  steps: [x]\n", line: 4, col: 7,
			want: "service map has no id"},
	})
}
