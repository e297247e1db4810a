package steps

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"werk/config"
	"werk/engine"
	"werk/internal/testenv"
)

// shellWait bounds every wait for the shell.
const shellWait = 30 * time.Second

// typedTerminal is a terminal whose input is typed by the test.
type typedTerminal struct {
	size    engine.TermSize
	resized chan engine.TermSize
	inR     *io.PipeReader
	inW     *io.PipeWriter
	mu      sync.Mutex
	out     bytes.Buffer
	once    sync.Once
}

func (t *typedTerminal) Read(p []byte) (int, error) { return t.inR.Read(p) }
func (t *typedTerminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.out.Write(p)
}
func (t *typedTerminal) Size() engine.TermSize           { return t.size }
func (t *typedTerminal) Resized() <-chan engine.TermSize { return t.resized }
func (t *typedTerminal) Close() error {
	t.once.Do(func() { t.inW.CloseWithError(io.EOF) })
	return nil
}

func (t *typedTerminal) output() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.out.String()
}

func (t *typedTerminal) typeText(s string) { go func() { _, _ = io.WriteString(t.inW, s) }() }

// waitOutput waits until the output contains text, and reports whether it
// did.
func (t *typedTerminal) waitOutput(text string) bool {
	deadline := time.Now().Add(shellWait)
	for !strings.Contains(t.output(), text) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// typingHost gives the shell step one terminal and a goroutine that types
// into it.
type typingHost struct {
	cols, rows int
	script     func(t *typedTerminal)
	mu         sync.Mutex
	term       *typedTerminal
}

func (h *typingHost) OpenTerminal(context.Context, string) (engine.Terminal, error) {
	r, w := io.Pipe()
	t := &typedTerminal{size: engine.TermSize{Cols: h.cols, Rows: h.rows}, resized: make(chan engine.TermSize, 1), inR: r, inW: w}
	h.mu.Lock()
	h.term = t
	h.mu.Unlock()
	go h.script(t)
	return t, nil
}

func (h *typingHost) terminal() *typedTerminal {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.term
}

// runShellPipeline runs the build pipeline of yml with the terminal host
// and returns the outcome and the events.
func runShellPipeline(t *testing.T, yml string, host engine.TerminalHost) (engine.RunFinished, []engine.Event) {
	t.Helper()
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.BashImage)
	dir := t.TempDir()
	path := filepath.Join(dir, "wercker.yml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	file, err := config.Parse(path, []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	pipeline, err := file.Pipeline("build")
	if err != nil {
		t.Fatal(err)
	}
	project := Project{Dir: dir, WorkingDir: filepath.Join(dir, ".werk")}
	mainSteps, err := BuildAll(pipeline.Steps, project)
	if err != nil {
		t.Fatal(err)
	}
	afterSteps, err := BuildAll(pipeline.AfterSteps, project)
	if err != nil {
		t.Fatal(err)
	}
	bus := engine.NewBus(nil)
	var events []engine.Event
	sub := bus.Subscribe(1<<14, false)
	done := make(chan struct{})
	go func() {
		for e := range sub.C {
			events = append(events, e)
		}
		close(done)
	}()
	runner := engine.NewRunner(&engine.Docker{API: cli, Host: cli.DaemonHost()}, bus, engine.Options{
		Command: "build", ProjectDir: dir, WorkingDir: project.WorkingDir, File: file, Pipeline: pipeline,
		Pull: engine.PullNever, Terminals: host,
	}, mainSteps, afterSteps)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	result := runner.Run(ctx)
	bus.Close()
	<-done
	return result, events
}

func finished(events []engine.Event, name string) (engine.StepFinished, bool) {
	var last engine.StepFinished
	found := false
	for _, e := range events {
		if f, ok := e.(engine.StepFinished); ok && f.Step.Name == name {
			last, found = f, true
		}
	}
	return last, found
}

const shellYML = `box: ` + testenv.BashImage + `
build:
  steps:
    - script:
        name: prepare
        code: |
          echo made > made.txt
          export FROM_STEP=exported
    - internal/shell:
        name: poke
        code: echo typed-by-the-step
  after-steps:
    - script:
        name: bye
        code: echo bye
`

func TestShellStepStatusAndEnvironment(t *testing.T) {
	host := &typingHost{cols: 91, rows: 27, script: func(term *typedTerminal) {
		term.waitOutput("typed-by-the-step\r\n")
		term.typeText("stty size; echo $((6*7)) $FROM_STEP; pwd; ls; echo $0\n")
		term.waitOutput("/bin/bash")
		term.typeText("exit 4\n")
	}}
	result, events := runShellPipeline(t, shellYML, host)

	out := host.terminal().output()
	for _, want := range []string{"27 91", "42 exported", "/pipeline/source", "made.txt", "/bin/bash"} {
		if !strings.Contains(out, want) {
			t.Errorf("the shell's output lacks %q:\n%s", want, out)
		}
	}
	poke, _ := finished(events, "poke")
	if poke.Status != engine.StepFailed || poke.ExitCode != 4 {
		t.Errorf("shell step ended %s with status %d, want failed with 4", poke.Status, poke.ExitCode)
	}
	if bye, _ := finished(events, "bye"); bye.Status != engine.StepPassed {
		t.Errorf("after-step ended %s, want passed", bye.Status)
	}
	if result.Result != engine.ResultFailed {
		t.Errorf("result %s, want failed", result.Result)
	}
}

func TestShellStepIgnoreExit(t *testing.T) {
	yml := strings.Replace(shellYML, "        code: echo typed-by-the-step\n", "        ignore-exit: true\n        cmd: /bin/sh\n", 1)
	host := &typingHost{cols: 80, rows: 24, script: func(term *typedTerminal) {
		term.typeText("echo $0; exit 4\n")
	}}
	result, events := runShellPipeline(t, yml, host)
	if poke, _ := finished(events, "poke"); poke.Status != engine.StepPassed {
		t.Errorf("shell step ended %s, want passed with ignore-exit", poke.Status)
	}
	if result.Result != engine.ResultPassed {
		t.Errorf("result %s (%v), want passed", result.Result, result.Err)
	}
	if out := host.terminal().output(); !strings.Contains(out, "/bin/sh") {
		t.Errorf("the cmd option did not start /bin/sh; output:\n%s", out)
	}
}

func TestShellStepWithoutTerminalFailsAtOnce(t *testing.T) {
	result, events := runShellPipeline(t, shellYML, nil)
	poke, _ := finished(events, "poke")
	if poke.Status != engine.StepFailed || !strings.Contains(poke.Message, "needs an interactive terminal") {
		t.Errorf("shell step ended %s: %q; want a failure that names the missing terminal", poke.Status, poke.Message)
	}
	if bye, _ := finished(events, "bye"); bye.Status != engine.StepPassed {
		t.Errorf("after-step ended %s, want passed", bye.Status)
	}
	if result.Result != engine.ResultFailed {
		t.Errorf("result %s, want failed", result.Result)
	}
}

func TestShellOptionErrors(t *testing.T) {
	cases := map[string]struct {
		opts []config.Option
		want string
	}{
		"unknown option":  {[]config.Option{{Key: "shell", Value: "bash"}}, `no option "shell"`},
		"bad ignore-exit": {[]config.Option{{Key: "ignore-exit", Value: "maybe"}}, `invalid ignore-exit "maybe"`},
		"empty cmd":       {[]config.Option{{Key: "cmd", Value: "  "}}, `invalid cmd`},
		"unclosed quote":  {[]config.Option{{Key: "cmd", Value: `sh -c "x`}}, `invalid cmd`},
	}
	for name, c := range cases {
		_, err := newShell(config.Step{ID: "internal/shell", Owner: "internal", Name: "shell", Options: c.opts}, Project{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", name, err, c.want)
		}
	}
}

func TestShellOptionValues(t *testing.T) {
	st, err := newShell(config.Step{ID: "internal/shell", Owner: "internal", Name: "shell", Options: []config.Option{
		{Key: "cmd", Value: `bash --norc -o "vi"`}, {Key: "code", Value: "echo a\r\necho b"}, {Key: "ignore-exit", Value: "true"},
	}}, Project{})
	if err != nil {
		t.Fatal(err)
	}
	s := st.(*shellStep)
	if got := strings.Join(s.cmd, "|"); got != "bash|--norc|-o|vi" {
		t.Errorf("cmd %q", got)
	}
	if s.code != "echo a\necho b\n" {
		t.Errorf("code %q, want LF line ends and a final newline", s.code)
	}
	if !s.ignoreExit {
		t.Error("ignore-exit not set")
	}
}
