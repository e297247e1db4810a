package config

import (
	"strings"
	"testing"
)

const describeInput = `box: golang:1.22
command-timeout: 30
services:
  - id: postgres:16
    name: db
    env:
      POSTGRES_PASSWORD: hunter2
build:
  base-path: /go/src/app
  steps:
    - script:
        name: test
        code: |
          go vet ./...
          go test ./...
    - me/notify@1.0:
        api-token: abc123
        Secret_Value: s3cr3t
        ssh-key: k
        channel: builds
  after-steps:
    - slack-notifier:
        url: https://hooks.example.com/x
deploy:
  box:
    id: alpine
    password: boxpass
  production:
    - internal/docker-push:
        repository: me/app
        password: pushpass
workflows:
  - name: release
    pipelines:
      - name: build
      - name: ship
        pipelineName: deploy
        requires: build
`

func TestDescribeContents(t *testing.T) {
	f := mustParse(t, describeInput)
	var b strings.Builder
	Describe(&b, f)
	out := b.String()

	for _, want := range []string{
		"box: golang:1.22",
		"command-timeout: 30 minutes",
		"pipeline build",
		"- postgres:16 (alias db)",
		"base-path: /go/src/app",
		"1. test [script]",
		"go test ./...",
		"2. notify [me/notify@1.0]",
		"channel: builds",
		"after-steps:",
		"1. slack-notifier [slack-notifier]",
		"pipeline deploy",
		"box: alpine",
		"deploy target production:",
		"1. docker-push [internal/docker-push]",
		"repository: me/app",
		"workflow release",
		"- ship (pipeline deploy), requires build",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\noutput:\n%s", want, out)
		}
	}
	for _, secret := range []string{"hunter2", "abc123", "s3cr3t", "boxpass", "pushpass", "ssh-key: k"} {
		if strings.Contains(out, secret) {
			t.Errorf("output shows secret %q\noutput:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "api-token: ***") {
		t.Errorf("masked option not shown as ***\noutput:\n%s", out)
	}
}

func TestDescribeOrderAndStability(t *testing.T) {
	f := mustParse(t, describeInput)
	var first, second strings.Builder
	Describe(&first, f)
	Describe(&second, f)
	if first.String() != second.String() {
		t.Error("two Describe calls gave different output")
	}
	out := first.String()
	build, deploy, workflow := strings.Index(out, "pipeline build"), strings.Index(out, "pipeline deploy"), strings.Index(out, "workflow release")
	if !(build < deploy && deploy < workflow) {
		t.Errorf("sections out of file order\noutput:\n%s", out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("output contains terminal colour codes")
	}
}

func TestDescribePipelineWithoutBox(t *testing.T) {
	f := mustParse(t, "build:\n  steps: [a]\n")
	var b strings.Builder
	Describe(&b, f)
	if !strings.Contains(b.String(), "box: (none)") {
		t.Errorf("output lacks the missing box\noutput:\n%s", b.String())
	}
}

func TestIsSecretKey(t *testing.T) {
	for key, want := range map[string]bool{
		"password": true, "DOCKER_PASSWORD": true, "token": true, "client-secret": true,
		"key-id": false, "keyname": false, "ssh-key": true, "API_KEY": true, "code": false, "name": false, "repository": false,
	} {
		if got := isSecretKey(key); got != want {
			t.Errorf("isSecretKey(%q) = %v, want %v", key, got, want)
		}
	}
}
