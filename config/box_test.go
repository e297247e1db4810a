package config

import (
	"reflect"
	"testing"
)

func TestBoxString(t *testing.T) {
	f := mustParse(t, "box: localhost:5000/team/img:1.2\n")
	want := &Box{ID: "localhost:5000/team/img:1.2", Pos: Pos{File: testPath, Line: 1, Column: 6}}
	if !reflect.DeepEqual(f.Box, want) {
		t.Errorf("Box = %+v, want %+v", f.Box, want)
	}
}

func TestBoxMapFields(t *testing.T) {
	f := mustParse(t, `
box:
  id: quay.io/me/app
  tag: 4.3.1
  cmd: /bin/sh
  entrypoint: /bin/sh -c
  username: me
  password: $PASS
  registry: https://quay.io
  env:
    node_env: test
    Port: 8080
    EMPTY:
  ports:
    - 8080
    - "127.0.0.1:8443:443/tcp"
  volumes: $SRC:/src, /cache   /tmp:/tmp
`)
	b := f.Box
	got := []string{b.ID, b.Tag, b.Cmd, b.Entrypoint, b.Username, b.Password, b.Registry, b.Image()}
	want := []string{"quay.io/me/app", "4.3.1", "/bin/sh", "/bin/sh -c", "me", "$PASS", "https://quay.io", "quay.io/me/app:4.3.1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %q, want %q", got, want)
	}
	wantEnv := []EnvVar{{"NODE_ENV", "test"}, {"PORT", "8080"}, {"EMPTY", ""}}
	if !reflect.DeepEqual(b.Env, wantEnv) {
		t.Errorf("Env = %+v, want %+v", b.Env, wantEnv)
	}
	if wantPorts := []string{"8080", "127.0.0.1:8443:443/tcp"}; !reflect.DeepEqual(b.Ports, wantPorts) {
		t.Errorf("Ports = %q, want %q", b.Ports, wantPorts)
	}
	if wantVolumes := []string{"$SRC:/src", "/cache", "/tmp:/tmp"}; !reflect.DeepEqual(b.Volumes, wantVolumes) {
		t.Errorf("Volumes = %q, want %q", b.Volumes, wantVolumes)
	}
	if b.Pos.Line != 3 || b.Pos.Column != 3 {
		t.Errorf("Pos = %v, want 3:3", b.Pos)
	}
	if len(f.Warnings) != 0 {
		t.Errorf("unexpected warnings: %v", f.Warnings)
	}
}

func TestBoxPortsScalarAndVolumesList(t *testing.T) {
	f := mustParse(t, "box:\n  id: a\n  ports: 3000\n  volumes:\n    - /a:/b\n    - /c\n")
	if !reflect.DeepEqual(f.Box.Ports, []string{"3000"}) {
		t.Errorf("Ports = %q, want [3000]", f.Box.Ports)
	}
	if !reflect.DeepEqual(f.Box.Volumes, []string{"/a:/b", "/c"}) {
		t.Errorf("Volumes = %q, want [/a:/b /c]", f.Box.Volumes)
	}
}

func TestBoxCloudAuthWarns(t *testing.T) {
	f := mustParse(t, `
box:
  id: node
  aws-region: us-east-1
  aws-registry-id: 666420666
  azure-client-id: abc
build:
  steps: [a]
`)
	wantAuth := map[string]string{"aws-region": "us-east-1", "aws-registry-id": "666420666", "azure-client-id": "abc"}
	if !reflect.DeepEqual(f.Box.CloudAuth, wantAuth) {
		t.Errorf("CloudAuth = %v, want %v", f.Box.CloudAuth, wantAuth)
	}
	aws := findWarning(f, "Amazon ECR")
	if aws == nil || aws.Pos.Line != 4 {
		t.Errorf("Amazon warning = %v, want one at line 4; warnings: %v", aws, f.Warnings)
	}
	azure := findWarning(f, "Azure ACR")
	if azure == nil || azure.Pos.Line != 6 {
		t.Errorf("Azure warning = %v, want one at line 6; warnings: %v", azure, f.Warnings)
	}
	if len(f.Warnings) != 2 {
		t.Errorf("got %d warnings, want one per provider: %v", len(f.Warnings), f.Warnings)
	}
}

func TestBoxUnknownFieldWarns(t *testing.T) {
	f := mustParse(t, "box:\n  id: a\n  image: b\nbuild:\n  steps: [x]\n")
	w := findWarning(f, `unknown box field "image"`)
	if w == nil {
		t.Fatalf("no warning; warnings: %v", f.Warnings)
	}
	if w.Pos.Line != 3 || w.Pos.Column != 3 {
		t.Errorf("warning position = %v, want 3:3", w.Pos)
	}
}

func TestBoxErrors(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "list", src: "box: [a]\n", line: 1, col: 6,
			want: "box must be an image name or a map with an id, not a list"},
		{name: "empty string", src: "box: \"\"\n", line: 1, col: 6,
			want: "box image name is empty"},
		{name: "map without id", src: "box:\n  tag: x\n", line: 2, col: 3,
			want: "box map has no id", hint: "id:"},
		{name: "env list", src: "box:\n  id: a\n  env:\n    - A=1\n", line: 4, col: 5,
			want: `box field "env" must be a map, not a list`},
		{name: "env value map", src: "box:\n  id: a\n  env:\n    A: {b: c}\n", line: 4, col: 8,
			want: `env variable "A" must be a string, not a map`},
		{name: "env keys differ in case", src: "box:\n  id: a\n  env:\n    path: x\n    PATH: y\n", line: 5, col: 5,
			want: `duplicate env variable "PATH"`},
		{name: "ports map", src: "box:\n  id: a\n  ports:\n    web: 80\n", line: 4, col: 5,
			want: `box field "ports" must be a list of ports, not a map`},
		{name: "port item list", src: "box:\n  id: a\n  ports:\n    - [80]\n", line: 4, col: 7,
			want: "a port must be a string, not a list"},
		{name: "volumes map", src: "box:\n  id: a\n  volumes: {a: b}\n", line: 3, col: 12,
			want: `box field "volumes" must be a string or a list, not a map`},
		{name: "cmd list", src: "box:\n  id: a\n  cmd: [sh]\n", line: 3, col: 8,
			want: `box field "cmd" must be a string, not a list`},
		{name: "service without id", src: "box: a\nservices:\n  - name: db\n", line: 3, col: 5,
			want: "service map has no id"},
		{name: "service list item", src: "box: a\nservices:\n  - [redis]\n", line: 3, col: 5,
			want: "service must be an image name or a map with an id, not a list"},
		{name: "service null item", src: "box: a\nservices:\n  -\n", line: 3, col: 4,
			want: "service must be an image name or a map with an id, not an empty value"},
	})
}

func TestServicesShapes(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string // image and alias of each service
	}{
		{"list of strings", "services:\n  - redis\n  - mongo:3.6\n", []string{"redis", "redis", "mongo:3.6", "mongo"}},
		{"single string", "services: wercker/mongodb\n", []string{"wercker/mongodb", "mongodb"}},
		{"single map", "services:\n  id: postgres\n  name: db\n", []string{"postgres", "db"}},
		{"list of maps", "services:\n  - id: arminc/clair-db\n    tag: 2017-09-18\n    name: postgres\n", []string{"arminc/clair-db:2017-09-18", "postgres"}},
		{"empty list", "services: []\n", nil},
		{"null", "services:\n", nil},
	}
	for _, c := range cases {
		f := mustParse(t, "box: a\n"+c.src)
		var got []string
		for _, s := range f.Services {
			got = append(got, s.Image(), s.Alias())
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: services = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestServiceURL(t *testing.T) {
	f := mustParse(t, "box: a\nservices:\n  - id: svc\n    url: file://../service#run\n")
	if got := f.Services[0].URL; got != "file://../service#run" {
		t.Errorf("URL = %q", got)
	}
}

func TestMainBoxServiceFieldsIgnored(t *testing.T) {
	f := mustParse(t, "box:\n  id: a\n  name: alias\n  url: file://x\nbuild:\n  steps: [x]\n")
	for _, field := range []string{`"name"`, `"url"`} {
		if findWarning(f, field+" is used only for services") == nil {
			t.Errorf("no warning about %s on the main box; warnings: %v", field, f.Warnings)
		}
	}
	if f.Box.Name != "" || f.Box.URL != "" {
		t.Errorf("Name, URL = %q, %q; want both empty for the main box", f.Box.Name, f.Box.URL)
	}
}
