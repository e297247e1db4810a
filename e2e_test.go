package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"werk/internal/testenv"
)

// werkBinary is the werk command built once for the end-to-end tests.
var werkBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "werk-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	werkBinary = filepath.Join(dir, "werk")
	build := exec.Command("go", "build", "-o", werkBinary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building werk:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// project copies testdata/projects/NAME into a fresh directory.
func project(t *testing.T, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	if err := copyTree(filepath.Join("testdata", "projects", name), dst); err != nil {
		t.Fatalf("copying project %s: %v", name, err)
	}
	return dst
}

func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case info.IsDir():
			return os.MkdirAll(target, info.Mode().Perm())
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, info.Mode().Perm())
		}
	})
}

// runWerk runs werk with args and extra environment, and returns its
// combined output and exit status.
func runWerk(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, werkBinary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running werk %v: %v", args, err)
	}
	return out.String(), code
}

// leftovers lists the containers, networks and volumes werk made for the
// project directory dir.
func leftovers(t *testing.T, cli client.APIClient, dir string) []string {
	t.Helper()
	ctx := context.Background()
	args := filters.NewArgs(filters.Arg("label", "dev.werk.project="+dir))
	var out []string
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: args})
	if err != nil {
		t.Fatalf("listing containers: %v", err)
	}
	for _, c := range cs {
		out = append(out, "container "+strings.Join(c.Names, ","))
	}
	ns, err := cli.NetworkList(ctx, network.ListOptions{Filters: args})
	if err != nil {
		t.Fatalf("listing networks: %v", err)
	}
	for _, n := range ns {
		out = append(out, "network "+n.Name)
	}
	vs, err := cli.VolumeList(ctx, volume.ListOptions{Filters: args})
	if err != nil {
		t.Fatalf("listing volumes: %v", err)
	}
	for _, v := range vs.Volumes {
		out = append(out, "volume "+v.Name)
	}
	return out
}

func requireDocker(t *testing.T) client.APIClient {
	t.Helper()
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.BusyboxImage)
	return cli
}

func TestPipelines(t *testing.T) {
	cli := requireDocker(t)
	cases := []struct {
		name     string
		project  string
		args     []string
		env      []string
		wantCode int
		want     []string
		notWant  []string
	}{
		{name: "two passing steps", project: "two-steps", args: []string{"build"},
			want: []string{"[first] first ran", "[second] second ran", "build passed"}},
		{name: "failing first step", project: "fail-first", args: []string{"build"}, wantCode: 1,
			want:    []string{"[breaks] about to fail", "second skipped", "after-step saw failed from breaks"},
			notWant: []string{"not reached", "second ran"}},
		{name: "exit 3 is status 3", project: "exit3", args: []string{"build"}, wantCode: 1,
			want: []string{"failed (exit status 3)", "exiting with 3"}},
		{name: "export reaches next step", project: "export", args: []string{"build"},
			want: []string{"greeting=hello world", "[use] loud!", "cwd=/pipeline/source"}},
		{name: "source-dir", project: "source-dir", args: []string{"build"},
			want: []string{"pwd=/pipeline/source/src", "source=/pipeline/source/src", "[where] inside", "[where] sibling.txt"}},
		{name: "options beside the step name", project: "side-by-side", args: []string{"build"},
			want: []string{"[beside] options beside the name work", "[nested] nested options work"}},
		{name: "local step with defaults", project: "local-step", args: []string{"build"},
			want: []string{"[greet] hello world!", "[greet] version=1.10", "root=/werk/steps/greet-"}},
		{name: "werckerignore with negation", project: "ignore", args: []string{"build"},
			want:    []string{"./keep.txt", "./logs/important.log"},
			notWant: []string{"./logs/a.log", "./build/out.bin", "./secret.env"}},
		{name: "symlinks stay symlinks", project: "symlink", args: []string{"build"},
			want: []string{"link.txt is a symlink to real/file.txt", "[links] target", "etc-link is a symlink to /etc"}},
		{name: "deploy target", project: "deploy-target", args: []string{"deploy", "--deploy-target", "production"},
			want: []string{"deploying to production with DEPLOY=true"}, notWant: []string{"default deploy steps"}},
		{name: "service by alias", project: "service", args: []string{"build"},
			want: []string{"[fetch] served-by-web", "[fetch] env=hi there", "[fetch] addr=1"}},
		{name: "no-response timeout", project: "timeout", args: []string{"build", "--no-response-timeout", "3s"}, wantCode: 1,
			want: []string{"[silent] going quiet", "no output for 3s", "no-response timeout"}},
		{name: "crlf file", project: "crlf", args: []string{"build"},
			want: []string{"value=[one]", "compare ok"}},
		{name: "anchors", project: "anchors", args: []string{"build", "--pipeline", "other"},
			want: []string{"[hello] hello from anchor", "[two] second step of other", "after-step 1/1 hello passed"}},
		{name: "empty file", project: "empty", args: []string{"build"}, wantCode: 1,
			want: []string{"wercker.yml is empty"}},
		{name: "unknown pipeline", project: "two-steps", args: []string{"build", "--pipeline", "nope"}, wantCode: 1,
			want: []string{`"nope"`, "build"}},
		{name: "exports survive a dead shell", project: "restore", args: []string{"build"}, wantCode: 1,
			want: []string{"stage=one result=failed", "runs in a new shell with the variables"}},
		{name: "progress bar stays one line", project: "progress", args: []string{"build"},
			want: []string{"[bar] downloading 100%\n[bar] done"}, notWant: []string{"downloading  40%"}},
		{name: "local step without run.sh", project: "empty-step", args: []string{"build"}, wantCode: 1,
			want: []string{"has no run.sh"}},
		{name: "unknown deploy target", project: "deploy-target", args: []string{"deploy", "--deploy-target", "prod"}, wantCode: 1,
			want: []string{`no deploy target "prod"`, "production"}, notWant: []string{"default deploy steps"}},
		{name: "invalid docker host", project: "two-steps", args: []string{"build", "--docker-host", "htp://nowhere"}, wantCode: 2,
			want: []string{"invalid --docker-host", "unix://"}},
		{name: "special characters and secrets", project: "special", args: []string{"build"},
			env: []string{
				"X_SPECIAL=it's \"quoted\" $HOME `tick` back\\slash\nsecond line",
				"X_DB_PASSWORD=pa$$w'rd\"x",
				"XXX_HIDDEN=very-hidden-value",
			},
			want: []string{
				"special=[it's \"quoted\" $HOME `tick` back\\slash",
				"password=***", "hidden=***",
			},
			notWant: []string{"pa$$w'rd", "very-hidden-value"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := project(t, tc.project)
			args := append(append([]string(nil), tc.args...), "--no-tui", dir)
			out, code := runWerk(t, tc.env, args...)
			if code != tc.wantCode {
				t.Errorf("exit status = %d, want %d\noutput:\n%s", code, tc.wantCode, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q\noutput:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output contains %q\noutput:\n%s", w, out)
				}
			}
			if left := leftovers(t, cli, dir); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
			for _, w := range tc.notWant {
				logs, _ := filepath.Glob(filepath.Join(dir, ".werk", "*.log"))
				runLogs, _ := filepath.Glob(filepath.Join(dir, ".werk", "logs", "*.log"))
				for _, f := range append(logs, runLogs...) {
					data, _ := os.ReadFile(f)
					if bytes.Contains(data, []byte(w)) {
						t.Errorf("%s contains %q", f, w)
					}
				}
			}
		})
	}
}

func TestSpecialValuesArriveExactly(t *testing.T) {
	requireDocker(t)
	dir := project(t, "special")
	value := "a'b\"c$d`e\\f\ng"
	out, code := runWerk(t, []string{"X_SPECIAL=" + value}, "build", "--no-tui", dir)
	if code != 0 {
		t.Fatalf("exit status %d\n%s", code, out)
	}
	// od -c prints each byte; the sequence below is value byte for byte.
	want := `a   '   b   "   c   $   d   ` + "`" + `   e   \   f  \n   g`
	if !strings.Contains(out, want) {
		t.Errorf("od output lacks %q\noutput:\n%s", want, out)
	}
}

func TestDevWritesIntoSource(t *testing.T) {
	cli := requireDocker(t)
	dir := project(t, "dev-write")
	out, code := runWerk(t, nil, "dev", "--no-tui", dir)
	if code != 0 {
		t.Fatalf("exit status %d\n%s", code, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "from-box.txt"))
	if err != nil {
		t.Fatalf("the host does not see the file the step wrote: %v", err)
	}
	if got := strings.TrimSpace(string(data)); got != "written by the box" {
		t.Errorf("from-box.txt = %q", got)
	}
	if left := leftovers(t, cli, dir); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestDeadDaemon(t *testing.T) {
	dir := project(t, "two-steps")
	sock := filepath.Join(t.TempDir(), "no-engine.sock")
	start := time.Now()
	out, code := runWerk(t, nil, "build", "--no-tui", "--docker-host", "unix://"+sock, dir)
	t.Logf("werk gave up after %s", time.Since(start).Round(time.Millisecond))
	if code != 1 {
		t.Errorf("exit status = %d, want 1\n%s", code, out)
	}
	for _, want := range []string{"docker engine not reachable", sock, "--docker-host"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
}

func TestUsageErrorExitsTwo(t *testing.T) {
	out, code := runWerk(t, nil, "build", "--no-such-flag")
	if code != 2 {
		t.Errorf("exit status = %d, want 2\n%s", code, out)
	}
}

func TestCheckConfig(t *testing.T) {
	out, code := runWerk(t, nil, "check-config", filepath.Join("testdata", "projects", "anchors"))
	if code != 0 {
		t.Errorf("valid file: exit status = %d\n%s", code, out)
	}
	if !strings.Contains(out, "hello") {
		t.Errorf("description lacks the step\n%s", out)
	}
	out, code = runWerk(t, nil, "check-config", filepath.Join("testdata", "projects", "empty"))
	if code != 1 || !strings.Contains(out, "wercker.yml is empty") {
		t.Errorf("empty file: exit status %d\n%s", code, out)
	}
}

// startWerk starts werk in the background and returns it with a channel of
// its output lines.
func startWerk(t *testing.T, args ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(werkBinary, args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting werk: %v", err)
	}
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() {
		_ = cmd.Wait()
		pw.Close()
	}()
	return cmd, lines
}

func waitForLine(t *testing.T, lines <-chan string, substr string) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("werk ended before printing %q", substr)
			}
			if strings.Contains(l, substr) {
				return
			}
		case <-deadline:
			t.Fatalf("werk did not print %q within a minute", substr)
		}
	}
}

func TestInterruptRemovesEverything(t *testing.T) {
	cli := requireDocker(t)
	dir := project(t, "timeout")
	cmd, lines := startWerk(t, "build", "--no-tui", dir)
	waitForLine(t, lines, "going quiet")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	out := strings.Join(rest, "\n")
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit status = %d, want 130\n%s", code, out)
	}
	if !strings.Contains(out, "interrupted") {
		t.Errorf("output does not say it was interrupted\n%s", out)
	}
	if left := leftovers(t, cli, dir); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestKilledRunIsSweptByNextRun(t *testing.T) {
	cli := requireDocker(t)
	dir := project(t, "timeout")
	cmd, lines := startWerk(t, "build", "--no-tui", dir)
	waitForLine(t, lines, "going quiet")
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	if left := leftovers(t, cli, dir); len(left) == 0 {
		t.Fatal("kill -9 left nothing behind; the test cannot show the sweep")
	}
	if err := copyTree(filepath.Join("testdata", "projects", "two-steps"), filepath.Join(dir, "next")); err != nil {
		t.Fatal(err)
	}
	out, code := runWerk(t, nil, "build", "--no-tui", filepath.Join(dir, "next"))
	if code != 0 {
		t.Fatalf("next run: exit status %d\n%s", code, out)
	}
	if !strings.Contains(out, "removed what earlier, killed werk runs left") {
		t.Errorf("next run did not report the sweep\n%s", out)
	}
	if left := leftovers(t, cli, dir); len(left) > 0 {
		t.Errorf("left behind after the next run: %v", left)
	}
}
