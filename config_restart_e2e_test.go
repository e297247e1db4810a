package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// restartYML is a dev pipeline that prints MARKER, then watches the project
// until stopped.
const restartYML = `box: werk-test/busybox
dev:
  steps:
    - script:
        name: marker
        code: echo MARKER
    - internal/watch:
        code: while true; do sleep 1; done
`

// badIndentYML does not parse: the code option is indented less than name.
const badIndentYML = `box: werk-test/busybox
dev:
  steps:
    - script:
        name: marker
       code: echo never
`

// replaceConfig writes wercker.yml in dir by renaming a new file over it, so
// the watch step never reads a half-written file.
func replaceConfig(t *testing.T, dir, yml string) {
	t.Helper()
	tmp := filepath.Join(dir, ".wercker.yml.new")
	if err := os.WriteFile(tmp, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "wercker.yml")); err != nil {
		t.Fatal(err)
	}
}

// waitForLines waits for a line containing each of substrs in turn and
// returns every line read.
func waitForLines(t *testing.T, lines <-chan string, substrs ...string) []string {
	t.Helper()
	var seen []string
	deadline := time.After(60 * time.Second)
	for _, want := range substrs {
		for found := false; !found; {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("werk ended before printing %q; output:\n%s", want, strings.Join(seen, "\n"))
				}
				seen = append(seen, l)
				found = strings.Contains(l, want)
			case <-deadline:
				t.Fatalf("werk did not print %q within a minute; output:\n%s", want, strings.Join(seen, "\n"))
			}
		}
	}
	return seen
}

func TestDevRestartsOnConfigChange(t *testing.T) {
	cli := requireDocker(t)
	dir := writeProject(t, strings.ReplaceAll(restartYML, "MARKER", "marker-one"))
	cmd, lines := startWerk(t, "dev", "--no-tui", "--restart-on-config-change", dir)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			for range lines {
			}
			removeLeftovers(cli, dir)
		}
	})
	// The watch step notices wercker.yml edits once it has started.
	waitForLines(t, lines, "marker-one", "watch: first run")

	replaceConfig(t, dir, strings.ReplaceAll(restartYML, "MARKER", "marker-two"))
	waitForLines(t, lines, "restarting the pipeline because wercker.yml changed", "marker-two", "watch: first run")

	// An invalid file is reported and the run goes on: its watch step still
	// notices the next edit, which restarts the pipeline.
	replaceConfig(t, dir, badIndentYML)
	seen := waitForLines(t, lines, "wercker.yml changed but is invalid")
	if last := seen[len(seen)-1]; !strings.Contains(last, "wercker.yml:6") {
		t.Errorf("error line %q does not name the line of the error", last)
	}
	replaceConfig(t, dir, strings.ReplaceAll(restartYML, "MARKER", "marker-three"))
	seen = waitForLines(t, lines, "marker-three", "watch: first run")
	for _, l := range seen {
		if strings.Contains(l, "marker-two") || strings.Contains(l, "never") {
			t.Errorf("after the invalid edit werk printed %q; want only the next valid pipeline's output", l)
		}
	}

	// The first SIGINT ends the watch step and so the run; a second one
	// follows only if werk is still running after a while.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var rest []string
	second := time.After(20 * time.Second)
	for done := false; !done; {
		select {
		case l, ok := <-lines:
			if !ok {
				done = true
				break
			}
			rest = append(rest, l)
		case <-second:
			_ = cmd.Process.Signal(syscall.SIGINT)
		}
	}
	out := strings.Join(rest, "\n")
	if strings.Contains(out, "restarting the pipeline") {
		t.Errorf("werk restarted after SIGINT\n%s", out)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 && code != 130 {
		t.Errorf("exit status = %d, want 0 (watch stopped) or 130 (interrupted)\n%s", code, out)
	}
	if left := leftovers(t, cli, dir); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestDevReportsConfigChangeWithoutFlag(t *testing.T) {
	cli := requireDocker(t)
	dir := writeProject(t, strings.ReplaceAll(restartYML, "MARKER", "marker-one"))
	cmd, lines := startWerk(t, "dev", "--no-tui", dir)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			for range lines {
			}
			removeLeftovers(cli, dir)
		}
	})
	waitForLines(t, lines, "marker-one", "watch: first run")

	replaceConfig(t, dir, strings.ReplaceAll(restartYML, "MARKER", "marker-two"))
	seen := waitForLines(t, lines, "wercker.yml changed; restart werk to apply it, or use --restart-on-config-change")
	for _, l := range seen {
		if strings.Contains(l, "marker-two") || strings.Contains(l, "restarting") {
			t.Errorf("werk restarted without --restart-on-config-change: %q", l)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	if left := leftovers(t, cli, dir); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
