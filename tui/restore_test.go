package tui

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/creack/pty"

	"werk/engine"
)

// panicTrigger is the log line on which panicModel panics while drawing.
const panicTrigger = "make the app panic"

// panicModel is the app's model with a View that panics once a line with
// panicTrigger is stored, so a panic in the app can be tested without a hook
// in werk itself.
type panicModel struct{ *model }

func (p panicModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := p.model.Update(msg)
	return p, cmd
}

func (p panicModel) View() tea.View {
	for _, src := range p.store.sources {
		for i := 0; i < src.lines.len(); i++ {
			if strings.Contains(src.lines.at(i).text, panicTrigger) {
				panic("test panic while drawing")
			}
		}
	}
	return p.model.View()
}

// syncBuffer collects a PTY's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// openPTY returns the terminal side of a new 80x24 PTY and what is written
// to it.
func openPTY(t *testing.T) (*os.File, *syncBuffer) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no PTY: %v", err)
	}
	// The terminal side stays open: after a kill, Bubble Tea does not wait
	// for its input goroutine, which may still read it when the test ends.
	t.Cleanup(func() { ptmx.Close() })
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	go func() { _, _ = io.Copy(out, ptmx) }()
	return tty, out
}

// waitFor polls cond until it holds or the test's patience ends.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// requireRestored checks that the terminal behind tty is back in cooked mode
// with echo, and that the app left the alternate screen and showed the
// cursor after it last entered or hid them.
func requireRestored(t *testing.T, tty *os.File, output string) {
	t.Helper()
	cmd := exec.Command("stty", "-a")
	cmd.Stdin = tty
	settings, err := cmd.Output()
	if err != nil {
		t.Fatalf("stty -a: %v", err)
	}
	fields := strings.Fields(string(settings))
	for _, want := range []string{"echo", "icanon", "isig", "icrnl", "opost"} {
		if !contains(fields, want) {
			t.Errorf("terminal setting %q is off after exit: %s", want, settings)
		}
	}
	if strings.LastIndex(output, "\x1b[?1049h") > strings.LastIndex(output, "\x1b[?1049l") {
		t.Error("the alternate screen is still on")
	}
	if !strings.Contains(output, "\x1b[?1049h") {
		t.Error("the app never entered the alternate screen; the test proves nothing")
	}
	if strings.LastIndex(output, "\x1b[?25l") > strings.LastIndex(output, "\x1b[?25h") {
		t.Error("the cursor is still hidden")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestPanicInAppRestoresTerminal(t *testing.T) {
	tty, out := openPTY(t)
	bus := engine.NewBus(nil)
	b := newBridge(false)
	m := newModel(&fakeController{}, Options{Command: "build"}, b.next)
	app := newApp(panicModel{m}, b, Options{Input: tty, Output: tty})
	followed := app.Follow(Subscribe(bus))

	errc := make(chan error, 1)
	go func() { errc <- app.Run() }()
	waitFor(t, "the app on screen", func() bool { return strings.Contains(out.String(), "werk build") })
	bus.Publish(engine.RunStarted{RunID: "r", Command: "build", Pipeline: "build", Steps: []engine.StepInfo{{Name: "s"}}, Time: time.Now()})
	bus.Publish(engine.LogLine{Step: ref(engine.PhaseMain, 0, "s"), Text: panicTrigger, Time: time.Now()})

	select {
	case err := <-errc:
		if !errors.Is(err, ErrPanic) {
			t.Errorf("Run returned %v, want ErrPanic", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the app did not end after the panic")
	}
	// The engine is never blocked by a crashed app: publishing goes on.
	bus.Publish(engine.LogLine{Text: "after the crash"})
	bus.Close()
	<-followed
	time.Sleep(100 * time.Millisecond) // let the PTY reader catch up
	requireRestored(t, tty, out.String())
}

func TestKillRestoresTerminal(t *testing.T) {
	tty, out := openPTY(t)
	b := newBridge(false)
	m := newModel(&fakeController{}, Options{Command: "dev"}, b.next)
	app := newApp(m, b, Options{Input: tty, Output: tty})
	errc := make(chan error, 1)
	go func() { errc <- app.Run() }()
	waitFor(t, "the app on screen", func() bool { return strings.Contains(out.String(), "werk dev") })
	app.Kill()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Run after Kill returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the app did not end after Kill")
	}
	time.Sleep(100 * time.Millisecond)
	requireRestored(t, tty, out.String())
}

func TestKillBeforeRunReturns(t *testing.T) {
	tty, _ := openPTY(t)
	b := newBridge(false)
	m := newModel(&fakeController{}, Options{Command: "dev"}, b.next)
	app := newApp(m, b, Options{Input: tty, Output: tty})
	done := make(chan struct{})
	go func() {
		app.Kill()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Kill before Run did not return")
	}
}
