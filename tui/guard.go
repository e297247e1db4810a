package tui

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"
)

// GuardCommand is the hidden werk subcommand that runs the terminal guard.
const GuardCommand = "internal-terminal-guard"

// guardReadyTimeout bounds the wait for the guard to save the terminal's
// state before the app changes it.
const guardReadyTimeout = 5 * time.Second

// terminalReset undoes what the app sets on the terminal: the alternate
// screen, the hidden cursor, mouse reporting, bracketed paste, focus
// reporting and keyboard enhancements, then resets SGR attributes.
const terminalReset = "\x1b[?1049l" + // leave the alternate screen
	"\x1b[?25h" + // show the cursor
	"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l" + // mouse reporting off
	"\x1b[?2004l" + // bracketed paste off
	"\x1b[?1004l" + // focus reporting off
	"\x1b[<u" + // pop the kitty keyboard flags
	"\x1b[>4m" + // modifyOtherKeys off
	"\x1b[m\r\n"

// Guard is a child process that restores the terminal when werk ends without
// doing so itself: a panic on a goroutine that no recover covers, or a
// SIGKILL. Bubble Tea restores the terminal on every other path.
//
// The guard saves the terminal's state at start and waits for werk to end.
// If werk ends without writing "ok" to the guard first, the guard restores
// the state, leaves the alternate screen and shows the cursor. Then it
// prints the Go runtime's crash report, which reaches it through
// debug.SetCrashOutput.
type Guard struct {
	cmd   *exec.Cmd
	ctl   *os.File // the guard's standard input; "ok" then EOF ends it quietly
	crash *os.File // the Go runtime's crash output
	once  sync.Once
}

// StartGuard starts the guard for the terminal on standard output. It
// returns an error, and no guard, when standard output is not a terminal or
// the guard did not start.
func StartGuard() (*Guard, error) {
	if !term.IsTerminal(int(os.Stdout.Fd())) {
		return nil, errors.New("standard output is not a terminal")
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding werk's executable for the terminal guard: %w", err)
	}
	crashR, crashW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		crashR.Close()
		crashW.Close()
		return nil, err
	}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		closeAll(crashR, crashW, readyR, readyW)
		return nil, err
	}
	cmd := exec.Command(exe, GuardCommand)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = ctlR, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{crashR, readyW} // fds 3 and 4
	err = cmd.Start()
	closeAll(crashR, readyW, ctlR)
	if err != nil {
		closeAll(crashW, readyR, ctlW)
		return nil, fmt.Errorf("starting the terminal guard: %w", err)
	}

	// Wait until the guard has saved the terminal's state.
	ready := make(chan error, 1)
	go func() {
		_, err := readyR.Read(make([]byte, 1))
		ready <- err
	}()
	select {
	case err = <-ready:
	case <-time.After(guardReadyTimeout):
		err = errors.New("timed out")
	}
	readyR.Close()
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		closeAll(crashW, ctlW)
		return nil, fmt.Errorf("the terminal guard did not start: %w", err)
	}
	if err := debug.SetCrashOutput(crashW, debug.CrashOptions{}); err != nil {
		g := &Guard{cmd: cmd, ctl: ctlW, crash: crashW}
		g.Stop()
		return nil, fmt.Errorf("sending crash output to the terminal guard: %w", err)
	}
	return &Guard{cmd: cmd, ctl: ctlW, crash: crashW}, nil
}

// Stop ends the guard quietly. Call it once the terminal is restored.
func (g *Guard) Stop() {
	if g == nil {
		return
	}
	g.once.Do(func() {
		_ = debug.SetCrashOutput(nil, debug.CrashOptions{})
		_, _ = g.ctl.Write([]byte("ok"))
		closeAll(g.ctl, g.crash)
		_ = g.cmd.Wait()
	})
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// RunGuard is the guard process: it saves the state of the terminal on
// standard output, reports ready on fd 4, and waits for werk to close its
// standard input. It returns the guard's exit status.
func RunGuard() int {
	// The guard outlives werk only to repair the terminal: signals meant for
	// werk's process group must not end it, and it may be in the background
	// by the time it writes to the terminal.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU)
	fd := int(os.Stdout.Fd())
	state, err := term.GetState(fd)
	ready := os.NewFile(4, "ready")
	crash := os.NewFile(3, "crash")
	if err != nil || ready == nil || crash == nil {
		return 1
	}
	_, _ = ready.Write([]byte{1})
	ready.Close()

	ctl, _ := io.ReadAll(os.Stdin)
	if string(ctl) == "ok" {
		return 0
	}
	report, _ := io.ReadAll(crash)
	_ = term.Restore(fd, state)
	_, _ = io.WriteString(os.Stdout, terminalReset)
	fmt.Fprintln(os.Stderr, "werk: werk ended without restoring the terminal; the terminal guard restored it.")
	if len(report) > 0 {
		fmt.Fprintf(os.Stderr, "werk crashed:\n%s", report)
	}
	return 0
}
