package tui

import (
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"werk/engine"
)

func TestMain(m *testing.M) {
	// The app logs a line per run; tests have no log file.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}

// fakeController records the app's requests. The second Interrupt reports
// a forced kill, as the runner does. Rerun returns rerunErr, as when
// wercker.yml does not load.
type fakeController struct {
	mu         sync.Mutex
	interrupts int
	reruns     int
	rerunErr   error
}

func (f *fakeController) Interrupt() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.interrupts++
	return f.interrupts >= 2
}

func (f *fakeController) Rerun() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reruns++
	return f.rerunErr
}

func (f *fakeController) counts() (interrupts, reruns int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.interrupts, f.reruns
}

// testClock is the fixed time the test models see: 42 s after t0.
var testClock = t0.Add(42 * time.Second)

func newTestModel(opts Options) (*model, *fakeController) {
	ctrl := &fakeController{}
	if opts.Command == "" {
		opts.Command = "build"
	}
	m := newModel(ctrl, opts, nil)
	m.now = func() time.Time { return testClock }
	// Commands run by the tests do not wait for status messages to expire.
	m.messageTime = time.Millisecond
	return m, ctrl
}

// startTeatest runs m in a test program of w x h cells.
func startTeatest(t *testing.T, m *model, w, h int) *teatest.TestModel {
	t.Helper()
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
}

// finalScreen quits the test program after the messages sent so far and
// returns the text of the last frame without styles.
func finalScreen(t *testing.T, tm *teatest.TestModel) (*model, string) {
	t.Helper()
	tm.Send(tea.QuitMsg{})
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*model)
	return fm, ansi.Strip(fm.compose())
}

func press(code rune) tea.KeyPressMsg {
	return tea.KeyPressMsg{Code: code, Text: string(code)}
}

func special(code rune, mod tea.KeyMod) tea.KeyPressMsg {
	return tea.KeyPressMsg{Code: code, Mod: mod}
}

func typeText(tm *teatest.TestModel, s string) {
	for _, r := range s {
		tm.Send(press(r))
	}
}

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

func ref(phase engine.Phase, i int, name string) engine.StepRef {
	return engine.StepRef{Phase: phase, Index: i, Name: name}
}

// runningRun is a run in progress: setup done, one step passed, the second
// running with output, a service, a port and a reload.
func runningRun() []engine.Event {
	build, test := ref(engine.PhaseMain, 0, "build"), ref(engine.PhaseMain, 1, "test")
	return []engine.Event{
		engine.RunStarted{RunID: "0a1b2c3d4e5f", Command: "build", Pipeline: "build", Box: "werk-test/busybox",
			Services:   []string{"redis"},
			Steps:      []engine.StepInfo{{Name: "build"}, {Name: "test"}, {Name: "deploy"}},
			AfterSteps: []engine.StepInfo{{Name: "notify"}}, Time: at(0)},
		engine.SetupProgress{Phase: "image", Detail: "werk-test/busybox", Time: at(0)},
		engine.SetupProgress{Phase: "image", Detail: "werk-test/busybox", Done: true, Duration: 1200 * time.Millisecond, Time: at(1200 * time.Millisecond)},
		engine.ServiceState{Alias: "redis", Image: "redis:7", Status: engine.ServiceRunning, Detail: "172.18.0.2", Time: at(2 * time.Second)},
		engine.PortState{ContainerPort: "8080/tcp", HostIP: "127.0.0.1", HostPort: "8080", URL: "http://127.0.0.1:8080", Status: engine.PortReady, Time: at(3 * time.Second)},
		engine.StepStarted{Step: build, Time: at(3 * time.Second)},
		engine.LogLine{Step: build, Text: "compiling 12 packages", Time: at(4 * time.Second)},
		engine.LogLine{Step: build, Text: "\x1b[32mok\x1b[0m werk/engine", Time: at(5 * time.Second)},
		engine.LogLine{Step: build, Stream: engine.Stderr, Text: "warning: deprecated flag", Time: at(5 * time.Second)},
		engine.StepFinished{Step: build, Status: engine.StepPassed, Duration: 7500 * time.Millisecond, Time: at(10500 * time.Millisecond)},
		engine.StepStarted{Step: test, Time: at(11 * time.Second)},
		engine.LogLine{Step: test, Text: "=== RUN   TestEngine", Time: at(12 * time.Second)},
		engine.LogLine{Service: "redis", Text: "Ready to accept connections tcp", Time: at(12 * time.Second)},
		engine.LogLine{Step: test, Text: "--- PASS: TestEngine (0.20s)", Time: at(13 * time.Second)},
		engine.Reload{Step: test, Seq: 1, Files: []string{"main.go"}, Result: engine.ReloadStarted, Time: at(14 * time.Second)},
		engine.Reload{Step: test, Seq: 1, Files: []string{"main.go"}, Result: engine.ReloadRunning, Duration: 1300 * time.Millisecond, Time: at(15 * time.Second)},
		engine.Notice{Level: engine.NoticeWarn, Text: "no-response-timeout is 5m0s", Time: at(15 * time.Second)},
		engine.LogLine{Step: test, Text: "宽字符 wide, e\u0301 combining, 🙂 emoji", Time: at(16 * time.Second)},
		engine.LogLine{Step: test, Text: "PASS", Time: at(17 * time.Second)},
		engine.LogLine{Step: test, Text: "ok  \twerk/engine\t0.215s", Time: at(18 * time.Second)},
	}
}

// finishedRun ends runningRun with a failure.
func finishedRun() []engine.Event {
	test, deploy := ref(engine.PhaseMain, 1, "test"), ref(engine.PhaseMain, 2, "deploy")
	notify := ref(engine.PhaseAfter, 0, "notify")
	return append(runningRun(),
		engine.LogLine{Step: test, Stream: engine.Stderr, Text: "FAIL: TestDeploy", Time: at(19 * time.Second)},
		engine.StepFinished{Step: test, Status: engine.StepFailed, ExitCode: 2, Message: "step failed with exit status 2", Duration: 9 * time.Second, Time: at(20 * time.Second)},
		engine.StepFinished{Step: deploy, Status: engine.StepSkipped, Time: at(20 * time.Second)},
		engine.StepStarted{Step: notify, Time: at(20 * time.Second)},
		engine.LogLine{Step: notify, Text: "sending the result", Time: at(21 * time.Second)},
		engine.StepFinished{Step: notify, Status: engine.StepPassed, Duration: time.Second, Time: at(21 * time.Second)},
		engine.PortState{ContainerPort: "9090/tcp", HostPort: "9090", Status: engine.PortFailed, Detail: "host port already in use", Time: at(21 * time.Second)},
		engine.RunFinished{Result: engine.ResultFailed, ExitCode: 1, Err: &engine.StepError{Code: 2, Msg: `step "test" failed`}, Duration: 25 * time.Second, Time: at(25 * time.Second)},
	)
}

// screenRows splits a frame into rows.
func screenRows(frame string) []string { return strings.Split(frame, "\n") }
