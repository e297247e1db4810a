package tui

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"

	"werk/engine"
)

// paneWait is how long a test waits for a pane to show something.
const paneWait = 30 * time.Second

// paneText returns the pane's screen without styles.
func paneText(p *termPane) string {
	snap := p.snapshot()
	var b strings.Builder
	for _, l := range snap.lines {
		b.WriteString(ansi.Strip(l))
		b.WriteByte('\n')
	}
	return b.String()
}

// waitPane waits until the pane's screen satisfies cond.
func waitPane(t *testing.T, p *termPane, what string, cond func(screen string) bool) {
	t.Helper()
	deadline := time.Now().Add(paneWait)
	for {
		s := paneText(p)
		if cond(s) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the pane to show %s; screen:\n%s", what, s)
		}
		select {
		case <-p.frames:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startLocal runs a shell command in a new pane and returns the pane and
// the command's exit status channel.
func startLocal(t *testing.T, cols, rows int, script string) (*termPane, <-chan int) {
	t.Helper()
	p := newTermPane("test", cols, rows, DefaultScrollbackLines)
	status := make(chan int, 1)
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = []string{"TERM=xterm-256color", "PATH=/usr/bin:/bin"}
	go func() {
		code, err := p.runLocal(cmd)
		if err != nil {
			t.Errorf("running %q: %v", script, err)
		}
		status <- code
	}()
	t.Cleanup(func() { p.Close() })
	return p, status
}

func waitStatus(t *testing.T, status <-chan int) int {
	t.Helper()
	select {
	case code := <-status:
		return code
	case <-time.After(paneWait):
		t.Fatal("the program in the pane did not exit")
		return -1
	}
}

func showing(text string) func(string) bool {
	return func(s string) bool { return strings.Contains(s, text) }
}

func TestPaneAnswersDeviceAttributes(t *testing.T) {
	// The program asks for the device attributes and reads the reply:
	// the pane must send it back instead of blocking on the query.
	p, status := startLocal(t, 80, 24, `stty raw -echo; printf '\033[c'; reply=$(dd bs=1 count=3 2>/dev/null | od -An -c | tr -s ' '); stty sane; echo "reply:$reply"; echo after-query`)
	waitPane(t, p, "the reply and the next line", showing("after-query"))
	if s := paneText(p); !strings.Contains(s, "reply: 033 [ ?") {
		t.Errorf("the program did not read the device attributes reply; screen:\n%s", s)
	}
	if code := waitStatus(t, status); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}

func TestPaneResizeReachesProgram(t *testing.T) {
	p, status := startLocal(t, 100, 30, `stty size; while read x; do [ "$x" = q ] && exit 0; stty size; done`)
	waitPane(t, p, "the first size", showing("30 100"))
	p.setSize(61, 17)
	// The pane applies a resize on its own goroutines, so the program may
	// still read the old size right after setSize: ask again until the new
	// size arrives.
	deadline := time.Now().Add(paneWait)
	for !strings.Contains(paneText(p), "17 61") {
		if time.Now().After(deadline) {
			t.Fatalf("the program never saw the size 17 61; screen:\n%s", paneText(p))
		}
		p.sendKey(uv.KeyPressEvent{Code: uv.KeyEnter})
		time.Sleep(200 * time.Millisecond)
	}
	if snap := p.snapshot(); snap.cols != 61 || snap.rows != 17 {
		t.Errorf("snapshot is %dx%d, want 61x17", snap.cols, snap.rows)
	}
	p.sendKey(uv.KeyPressEvent{Code: 'q', Text: "q"})
	p.sendKey(uv.KeyPressEvent{Code: uv.KeyEnter})
	waitStatus(t, status)
}

func TestPaneSurvivesTallScrollRegionDuringResize(t *testing.T) {
	p, status := startLocal(t, 80, 24, `i=0; while [ $i -lt 300 ]; do printf '\033[5;200r\033[200;1H\033[3L'; i=$((i+1)); done; printf '\033[r\033[2J\033[H'; echo survived; read x`)
	for i := range 20 {
		p.setSize(80-i, 24-i%10)
		time.Sleep(5 * time.Millisecond)
	}
	waitPane(t, p, "the line after the scroll regions", showing("survived"))
	p.sendKey(uv.KeyPressEvent{Code: uv.KeyEnter})
	waitStatus(t, status)
}

func TestPaneEchoesKeys(t *testing.T) {
	p, status := startLocal(t, 40, 10, `cat`)
	for _, r := range "hello" {
		p.sendKey(uv.KeyPressEvent{Code: r, Text: string(r)})
	}
	waitPane(t, p, "the typed text", showing("hello"))
	p.sendKey(uv.KeyPressEvent{Code: uv.KeyEnter})
	p.sendKey(uv.KeyPressEvent{Code: 'd', Mod: uv.ModCtrl})
	if code := waitStatus(t, status); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}

func TestPaneKeepsScrollback(t *testing.T) {
	p, status := startLocal(t, 40, 10, `seq 1 20000`)
	waitStatus(t, status)
	waitPane(t, p, "the last number", showing("20000"))
	if n := p.scrollbackLen(); n != DefaultScrollbackLines {
		t.Fatalf("scrollback has %d lines, want %d", n, DefaultScrollbackLines)
	}
	lines := p.scrollbackLines(DefaultScrollbackLines-1, 1)
	// The screen holds 20000 and 9 lines above it: 19991..19999 and one
	// blank row for the cursor; the scrollback ends at 19991-1.
	if len(lines) != 1 || strings.TrimSpace(lines[0]) != "19991" {
		t.Errorf("newest scrollback line %q, want 19991", lines)
	}
}

// newPaneModel returns a model of w x h cells with a run and an open
// terminal pane running script.
func newPaneModel(t *testing.T, w, h int, script string) (*model, *termPane, <-chan int) {
	t.Helper()
	m, _ := newTestModel(Options{})
	update(m, tea.WindowSizeMsg{Width: w, Height: h}, eventsMsg{events: runningRun()})
	reply := make(chan *termPane, 1)
	m.Update(openPaneMsg{title: "debug", reply: reply})
	p := <-reply
	if p == nil {
		t.Fatal("the model did not open a pane")
	}
	status := make(chan int, 1)
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = []string{"TERM=xterm-256color", "PATH=/usr/bin:/bin", "PS1=$ "}
	go func() {
		code, _ := p.runLocal(cmd)
		status <- code
	}()
	t.Cleanup(func() { p.Close() })
	return m, p, status
}

// waitModel feeds the pane's frames to m until the drawn terminal pane
// satisfies cond.
func waitModel(t *testing.T, m *model, p *termPane, what string, cond func(pane string) bool) {
	t.Helper()
	deadline := time.Now().Add(paneWait)
	for {
		m.Update(paneFrameMsg{pane: p})
		m.compose()
		s := ansi.Strip(strings.Join(m.cache[paneShell], "\n"))
		if cond(s) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitSize waits until the pane's program has the size cols x rows.
func waitSize(t *testing.T, p *termPane, cols, rows int) {
	t.Helper()
	deadline := time.Now().Add(paneWait)
	for p.Size() != (engine.TermSize{Cols: cols, Rows: rows}) {
		if time.Now().After(deadline) {
			t.Fatalf("the pane's terminal is %v, want %dx%d", p.Size(), cols, rows)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func typeKeys(m *model, s string) {
	for _, r := range s {
		if r == '\r' {
			m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
			continue
		}
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func TestShellPaneTakesFocusAndKeys(t *testing.T) {
	m, p, status := newPaneModel(t, 120, 40, `exec sh -i`)
	if m.focus != paneShell {
		t.Fatalf("focus is on %s, want the shell pane", m.focus)
	}
	r := m.layout.panes[paneShell]
	if size := p.Size(); size.Cols != r.w-2 || size.Rows != r.h-2 {
		t.Errorf("terminal is %dx%d, pane inner area %dx%d", size.Cols, size.Rows, r.w-2, r.h-2)
	}
	typeKeys(m, "echo $((6*7))\r")
	waitModel(t, m, p, "42 in the pane", func(s string) bool { return strings.Contains(s, "│42 ") || strings.Contains(s, "$ 42 ") })

	// Keys that the app binds, such as q and ctrl+c, go to the shell.
	typeKeys(m, "q")
	m.Update(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	if m.mode == modeConfirmQuit || m.showHelp {
		t.Error("the app took a key meant for the shell")
	}
	// The interrupt discards what the shell has not read yet, so the
	// test waits for the new prompt.
	waitModel(t, m, p, "the interrupted line", showing("^C"))

	// The prefix key zooms the pane, and the terminal follows.
	m.Update(tea.KeyPressMsg{Code: 'b', Mod: tea.ModCtrl})
	m.Update(tea.KeyPressMsg{Code: 'z', Text: "z"})
	if m.zoom != paneShell {
		t.Fatalf("zoom is %d, want the shell pane", m.zoom)
	}
	r = m.layout.panes[paneShell]
	if r.w != 120 || r.h != 38 {
		t.Errorf("zoomed pane is %dx%d, want the whole body 120x38", r.w, r.h)
	}
	waitSize(t, p, 118, 36)
	typeKeys(m, "stty size\r")
	waitModel(t, m, p, "the zoomed size", showing("36 118"))

	// The prefix key and tab leave the pane; tab comes back.
	m.Update(tea.KeyPressMsg{Code: 'b', Mod: tea.ModCtrl})
	m.Update(tea.KeyPressMsg{Code: tea.KeyTab})
	if m.focus == paneShell {
		t.Fatal("ctrl+b tab did not move the focus")
	}
	m.Update(tea.KeyPressMsg{Code: 'z', Text: "z"})
	for m.focus != paneShell {
		m.Update(tea.KeyPressMsg{Code: tea.KeyTab})
	}

	typeKeys(m, "exit 3\r")
	if code := waitStatus(t, status); code != 3 {
		t.Errorf("exit status %d, want 3", code)
	}
	<-p.done
	m.Update(paneClosedMsg{pane: p})
	if m.sh.view != nil || m.focus == paneShell || m.layout.visible(paneShell) {
		t.Error("the pane stayed open after its program exited")
	}
}

func TestShellPaneScrollsBack(t *testing.T) {
	m, p, status := newPaneModel(t, 100, 30, `seq 1 500; exec sh -i`)
	waitModel(t, m, p, "the end of the output", showing("500"))
	m.Update(tea.KeyPressMsg{Code: 'b', Mod: tea.ModCtrl})
	m.Update(tea.KeyPressMsg{Code: '[', Text: "["})
	m.Update(tea.KeyPressMsg{Code: 'g', Text: "g"})
	waitModel(t, m, p, "the first line of the scrollback", func(s string) bool {
		return strings.Contains(s, "│1 ") || strings.Contains(s, "│1\n")
	})
	if m.shellCursor() != nil {
		t.Error("the cursor shows while the view is in the scrollback")
	}
	m.Update(tea.KeyPressMsg{Code: 'q', Text: "q"})
	if m.sh.view.back != 0 {
		t.Errorf("q left the view %d rows back", m.sh.view.back)
	}
	if m.shellCursor() == nil {
		t.Error("no cursor on the live screen")
	}
	typeKeys(m, "exit\r")
	waitStatus(t, status)
}

// steppingController is a controller whose runs can pause before each step.
type steppingController struct {
	fakeController
	on bool
}

func (c *steppingController) Stepping() bool      { return c.on }
func (c *steppingController) SetStepping(on bool) { c.on = on }

func TestPausePromptAnswersWithKeys(t *testing.T) {
	m, _ := newTestModel(Options{})
	update(m, tea.WindowSizeMsg{Width: 120, Height: 40}, eventsMsg{events: runningRun()})
	deploy := ref(engine.PhaseMain, 2, "deploy")
	update(m, eventsMsg{events: []engine.Event{engine.Paused{Step: deploy, Reason: engine.PauseStepping}}})
	reply := make(chan engine.DebugAction, 1)
	m.Update(pauseMsg{pause: engine.Pause{Step: deploy, Reason: engine.PauseStepping, Actions: []engine.DebugAction{
		engine.DebugRun, engine.DebugSkip, engine.DebugShell, engine.DebugContinue, engine.DebugAbort}}, reply: reply})

	screen := ansi.Strip(m.compose())
	for _, want := range []string{"‖ deploy", "paused", "‖ paused before", "enter run the step · x skip · s shell", "c continue"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	// r is no answer before a step: it does nothing here.
	m.Update(tea.KeyPressMsg{Code: 'r', Text: "r"})
	select {
	case a := <-reply:
		t.Fatalf("r answered %s before a step", a)
	default:
	}
	m.Update(tea.KeyPressMsg{Code: 'x', Text: "x"})
	select {
	case a := <-reply:
		if a != engine.DebugSkip {
			t.Errorf("x answered %s, want skip", a)
		}
	default:
		t.Fatal("x did not answer the pause")
	}
	if m.sh.pause != nil {
		t.Error("the prompt stayed after the answer")
	}
}

func TestSteppingKeyToggles(t *testing.T) {
	ctrl := &steppingController{}
	m := newModel(ctrl, Options{Command: "build"}, nil)
	update(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	m.Update(tea.KeyPressMsg{Code: 'p', Text: "p"})
	if !ctrl.on {
		t.Fatal("p did not turn stepping on")
	}
	m.Update(tea.KeyPressMsg{Code: 'p', Text: "p"})
	if ctrl.on {
		t.Error("p did not turn stepping off")
	}
}
