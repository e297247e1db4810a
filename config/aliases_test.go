package config

import (
	"strings"
	"testing"
)

func TestDuplicateServiceAlias(t *testing.T) {
	src := "box: b\nservices:\n  - redis\n  - id: other/redis\nbuild:\n  steps:\n    - script:\n        code: x\n"
	_, err := Parse("wercker.yml", []byte(src))
	if err == nil {
		t.Fatal("Parse accepted two services with the alias redis")
	}
	if !strings.Contains(err.Error(), `alias "redis"`) {
		t.Errorf("error = %v, want it to name the alias", err)
	}
	if !strings.Contains(err.Error(), "wercker.yml:4:") {
		t.Errorf("error = %v, want the position of the second service", err)
	}
}

func TestScriptWithoutCodeWarns(t *testing.T) {
	f, err := Parse("wercker.yml", []byte("box: b\nbuild:\n  steps:\n    - script:\n        cdoe: echo y\n"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var all []string
	for _, w := range f.Warnings {
		all = append(all, w.Error())
	}
	joined := strings.Join(all, "\n")
	if !strings.Contains(joined, "has no code") {
		t.Errorf("warnings lack the missing code:\n%s", joined)
	}
	if !strings.Contains(joined, `did you mean "code"`) {
		t.Errorf("warnings lack the suggestion:\n%s", joined)
	}
}
