package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/term"

	"werk/engine"
)

// rawTerminalHost lends the user's own terminal to interactive programs of
// a run without the terminal UI: internal/shell, debug shells and the pause
// prompt. The terminal is in raw mode only while a program runs.
type rawTerminalHost struct{}

var _ engine.TerminalHost = rawTerminalHost{}

// activeRaw is the terminal in raw mode right now, for restoreTerminal.
var activeRaw atomic.Pointer[rawTerminal]

// restoreTerminal takes the user's terminal out of raw mode. werk calls it
// before exiting without unwinding, such as after a forced stop.
func restoreTerminal() {
	if t := activeRaw.Load(); t != nil {
		t.restore()
	}
}

// haveTerminal reports whether werk's standard input is a terminal the user
// types into.
func haveTerminal() bool { return term.IsTerminal(int(os.Stdin.Fd())) }

// rawTerminal is the user's terminal, opened as /dev/tty: a file of its
// own, so closing it ends a blocked Read without touching standard input.
type rawTerminal struct {
	tty     *os.File
	state   *term.State
	resized chan engine.TermSize
	winch   chan os.Signal
	closed  atomic.Bool
	once    sync.Once
	done    chan struct{}
}

// openRaw opens the controlling terminal and puts it in raw mode.
func openRaw() (*rawTerminal, error) {
	if !haveTerminal() {
		return nil, engine.ErrNoTerminal
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%w (opening /dev/tty: %v)", engine.ErrNoTerminal, err)
	}
	t := &rawTerminal{tty: tty, resized: make(chan engine.TermSize, 1), winch: make(chan os.Signal, 1), done: make(chan struct{})}
	// Fd would switch the file to blocking mode, after which Close no
	// longer ends a blocked Read; Control leaves it as it is.
	err = t.control(func(fd int) error {
		state, err := term.MakeRaw(fd)
		t.state = state
		return err
	})
	if err != nil {
		tty.Close()
		return nil, fmt.Errorf("putting the terminal in raw mode: %w", err)
	}
	activeRaw.Store(t)
	signal.Notify(t.winch, syscall.SIGWINCH)
	go t.forwardResizes()
	return t, nil
}

func (t *rawTerminal) control(f func(fd int) error) error {
	rc, err := t.tty.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

func (t *rawTerminal) forwardResizes() {
	for {
		select {
		case <-t.done:
			return
		case <-t.winch:
			size := t.Size()
			select {
			case <-t.resized:
			default:
			}
			t.resized <- size
		}
	}
}

// Read returns the user's keys; io.EOF once the terminal is closed.
func (t *rawTerminal) Read(p []byte) (int, error) {
	n, err := t.tty.Read(p)
	if err != nil && t.closed.Load() {
		return n, io.EOF
	}
	return n, err
}

// Write shows program output.
func (t *rawTerminal) Write(p []byte) (int, error) { return t.tty.Write(p) }

// Size returns the terminal's size; 80x24 when the terminal does not tell.
func (t *rawTerminal) Size() engine.TermSize {
	size := engine.TermSize{Cols: 80, Rows: 24}
	_ = t.control(func(fd int) error {
		w, h, err := term.GetSize(fd)
		if err == nil && w > 0 && h > 0 {
			size = engine.TermSize{Cols: w, Rows: h}
		}
		return err
	})
	return size
}

// Resized delivers the sizes the terminal takes on SIGWINCH.
func (t *rawTerminal) Resized() <-chan engine.TermSize { return t.resized }

// Close restores the terminal's mode and ends a blocked Read.
func (t *rawTerminal) Close() error {
	t.once.Do(func() {
		t.restore()
		signal.Stop(t.winch)
		close(t.done)
		t.closed.Store(true)
		t.tty.Close()
	})
	return nil
}

// restore leaves raw mode; it is safe to call more than once.
func (t *rawTerminal) restore() {
	if activeRaw.CompareAndSwap(t, nil) && t.state != nil {
		if err := t.control(func(fd int) error { return term.Restore(fd, t.state) }); err != nil {
			slog.Warn("restoring the terminal", "err", err)
		}
	}
}

// OpenTerminal puts the user's terminal in raw mode for one program.
func (rawTerminalHost) OpenTerminal(_ context.Context, title string) (engine.Terminal, error) {
	t, err := openRaw()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(t, "\r\nwerk: %s: the terminal is attached to the box; exit the shell to go on\r\n", title)
	return t, nil
}

// plainDebugger asks at pauses with a one-key prompt on the user's
// terminal.
type plainDebugger struct{}

// pauseKeys maps the prompt's keys to answers. Enter runs the step; Ctrl-C
// aborts, since raw mode turns it into a key.
var pauseKeys = map[byte]engine.DebugAction{
	'\r': engine.DebugRun, '\n': engine.DebugRun,
	'k': engine.DebugSkip, 'x': engine.DebugSkip,
	's': engine.DebugShell,
	'c': engine.DebugContinue,
	'r': engine.DebugRetry,
	'a': engine.DebugAbort, 0x03: engine.DebugAbort,
}

// promptWords are the prompt's words for each answer, with the key in
// brackets.
var promptWords = map[engine.DebugAction]string{
	engine.DebugRun:      "[enter] run",
	engine.DebugSkip:     "s[k]ip",
	engine.DebugShell:    "[s]hell",
	engine.DebugContinue: "[c]ontinue",
	engine.DebugRetry:    "[r]etry",
	engine.DebugAbort:    "[a]bort",
}

// Pause prints the pause and its answers and reads one key.
func (plainDebugger) Pause(ctx context.Context, p engine.Pause) (engine.DebugAction, error) {
	t, err := openRaw()
	if err != nil {
		return engine.DebugAbort, err
	}
	defer t.Close()
	stop := context.AfterFunc(ctx, func() { t.Close() })
	defer stop()

	what := fmt.Sprintf("%s %q", p.Step.Phase, p.Step.Name)
	switch p.Reason {
	case engine.PauseFailure:
		fmt.Fprintf(t, "\r\nwerk: paused: %s failed: %s\r\n", what, p.Message)
	case engine.PauseBreakpoint:
		fmt.Fprintf(t, "\r\nwerk: paused at the breakpoint before %s\r\n", what)
	default:
		fmt.Fprintf(t, "\r\nwerk: paused before %s\r\n", what)
	}
	words := make([]string, 0, len(p.Actions))
	for _, a := range p.Actions {
		words = append(words, promptWords[a])
	}
	for {
		fmt.Fprintf(t, "%s? ", joinWords(words))
		var b [1]byte
		if _, err := t.Read(b[:]); err != nil {
			if ctx.Err() != nil {
				return engine.DebugAbort, context.Cause(ctx)
			}
			return engine.DebugAbort, fmt.Errorf("reading the answer from the terminal: %w", err)
		}
		if a, ok := pauseKeys[b[0]]; ok && containsAction(p.Actions, a) {
			fmt.Fprintf(t, "%s\r\n", a)
			return a, nil
		}
		fmt.Fprint(t, "\r\n")
	}
}

func joinWords(words []string) string {
	out := ""
	for i, w := range words {
		if i > 0 {
			out += ", "
		}
		out += w
	}
	return out
}

func containsAction(list []engine.DebugAction, a engine.DebugAction) bool {
	for _, v := range list {
		if v == a {
			return true
		}
	}
	return false
}

// errNoDebugTerminal explains why debugging flags need a terminal.
var errNoDebugTerminal = errors.New("--step, --break-before and --break-on-failure need an interactive terminal: run werk from one, without redirecting its input")

// rawAwareWriter writes plain output to the terminal. While an interactive
// program holds the terminal in raw mode, a newline no longer returns the
// cursor to the first column, so each "\n" is written as "\r\n".
type rawAwareWriter struct{ w io.Writer }

func (r rawAwareWriter) Write(p []byte) (int, error) {
	if activeRaw.Load() == nil {
		return r.w.Write(p)
	}
	if _, err := r.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
