package config

import "testing"

func TestWatchIgnoreAcceptsList(t *testing.T) {
	f, err := Parse("wercker.yml", []byte("box: b\ndev:\n  steps:\n    - internal/watch:\n        code: run\n        ignore:\n          - '*.log'\n          - tmp/\n"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got, _ := f.Pipelines["dev"].Steps[0].Option("ignore")
	if got != "*.log\ntmp/" {
		t.Errorf("ignore = %q, want %q", got, "*.log\ntmp/")
	}
}

func TestScriptCodeRejectsList(t *testing.T) {
	_, err := Parse("wercker.yml", []byte("box: b\nbuild:\n  steps:\n    - script:\n        code:\n          - a\n"))
	if err == nil {
		t.Fatal("Parse accepted a list as script code")
	}
}
