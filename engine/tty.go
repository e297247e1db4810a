package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/versions"

	"werk/assets"
)

// TermSize is the size of a terminal in character cells.
type TermSize struct {
	Cols int
	Rows int
}

// Terminal is a terminal that a TerminalHost lends to one interactive
// program: the TUI's terminal pane, or the user's own terminal in raw mode.
type Terminal interface {
	// Read returns what the user types, encoded as a terminal sends it
	// (keys, pastes, and the terminal's replies to queries). It returns
	// io.EOF once the terminal is closed.
	io.Reader
	// Write shows program output, escape sequences included.
	io.Writer
	// Size returns the terminal's current size.
	Size() TermSize
	// Resized delivers every later size. Only the newest size waits in it.
	Resized() <-chan TermSize
	// Close gives the terminal back: the pane closes, the user's terminal
	// leaves raw mode. It ends a blocked Read.
	Close() error
}

// TerminalHost opens terminals for interactive programs of a run.
type TerminalHost interface {
	// OpenTerminal returns a terminal titled title, already at its final
	// size, or ErrNoTerminal.
	OpenTerminal(ctx context.Context, title string) (Terminal, error)
}

// ErrNoTerminal means werk has no terminal to give an interactive program:
// its standard input is not a terminal, or the terminal UI has quit.
var ErrNoTerminal = errors.New("no terminal is attached to werk: run werk from an interactive terminal, without redirecting its input")

// consoleSizeAPIVersion is the first Engine API version whose exec create and
// exec start accept ConsoleSize (Docker 23.0). The Go client silently drops
// the field for older versions (client/container_exec.go in
// github.com/docker/docker v28.5.2), so for those werk resizes the exec right
// after it starts.
const consoleSizeAPIVersion = "1.42"

// Limits of an interactive exec.
const (
	// ttyResizeAttempts bounds the retries of the first resize of an exec
	// that the engine has not marked running yet.
	ttyResizeAttempts = 50
	ttyResizeRetry    = 20 * time.Millisecond
	// ttyReadBuffer is the size of one read of program output.
	ttyReadBuffer = 64 << 10
	// ttyEOF is the end-of-file character of a new terminal (Ctrl-D).
	ttyEOF = 0x04
)

// TTYOptions describe a program to run on a pseudo-terminal in a container.
type TTYOptions struct {
	Cmd        []string
	Env        []string
	WorkingDir string
	Size       TermSize
}

// TTYExec is a program running on a pseudo-terminal in a container, attached
// through the engine. Write sends input, Read returns output (the terminal's
// single stream), Resize changes the terminal's size.
type TTYExec struct {
	d           *Docker
	containerID string
	execID      string
	conn        types.HijackedResponse
	pidFile     string
	// sizedAtCreate is true when the engine took the size with the create
	// request, false when werk resized the exec after it started.
	sizedAtCreate bool
	closeOnce     sync.Once
}

// consoleSizeSupported reports whether exec create and start take an initial
// console size at API version v.
func consoleSizeSupported(v string) bool {
	return v != "" && !versions.LessThan(v, consoleSizeAPIVersion)
}

// StartTTY starts opts.Cmd in the container on a pseudo-terminal of
// opts.Size. With API 1.42 and later the engine creates the terminal at that
// size. With older engines werk resizes the terminal right after the start,
// and a wrapper shell holds the program back until then. Either way the
// program has its size from its first instruction.
func (d *Docker) StartTTY(ctx context.Context, containerID string, opts TTYOptions) (*TTYExec, error) {
	if len(opts.Cmd) == 0 {
		return nil, errors.New("starting a terminal program: no command given")
	}
	if opts.Size.Cols <= 0 || opts.Size.Rows <= 0 {
		return nil, fmt.Errorf("starting %q on a terminal: invalid terminal size %dx%d", opts.Cmd[0], opts.Size.Cols, opts.Size.Rows)
	}

	sized := consoleSizeSupported(d.API.ClientVersion())
	// The wrapper records the program's PID in the bookkeeping volume, so
	// werk can stop it and its children; exec keeps the PID. When the
	// engine cannot take the size with the create, the wrapper waits until
	// werk has resized the terminal and sends the terminal's end-of-file
	// character, which read consumes without an echo.
	pidFile := path.Join(guestWerkDir, "tty-"+strings.TrimPrefix(newToken(), markerPrefix)+".pid")
	wait := "go"
	if !sized {
		wait = "wait"
	}
	wrapper := `echo $$ >"$0" || exit 126; if [ "$1" = wait ]; then IFS= read -r _; fi; shift; exec "$@"`
	cmd := append([]string{"/bin/sh", "-c", wrapper, pidFile, wait}, opts.Cmd...)

	var consoleSize *[2]uint
	if sized {
		consoleSize = &[2]uint{uint(opts.Size.Rows), uint(opts.Size.Cols)}
	}
	created, err := d.API.ContainerExecCreate(ctx, containerID, container.ExecOptions{
		Cmd:          cmd,
		Env:          opts.Env,
		WorkingDir:   opts.WorkingDir,
		Tty:          true,
		AttachStdin:  true,
		AttachStdout: true,
		AttachStderr: true,
		ConsoleSize:  consoleSize,
	})
	if err != nil {
		return nil, fmt.Errorf("creating terminal program %q in the box: %w", strings.Join(opts.Cmd, " "), err)
	}
	conn, err := d.API.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{Tty: true, ConsoleSize: consoleSize})
	if err != nil {
		return nil, fmt.Errorf("attaching to terminal program %q: %w", strings.Join(opts.Cmd, " "), err)
	}

	t := &TTYExec{d: d, containerID: containerID, execID: created.ID, conn: conn, pidFile: pidFile, sizedAtCreate: sized}
	if !sized {
		if err := t.resizeStarting(ctx, opts.Size); err != nil {
			t.Close()
			return nil, err
		}
		if _, err := t.Write([]byte{ttyEOF}); err != nil {
			t.Close()
			return nil, fmt.Errorf("starting terminal program %q: %w", strings.Join(opts.Cmd, " "), err)
		}
	}
	return t, nil
}

// resizeStarting sets the size of an exec that may not be marked running
// yet: the engine rejects a resize until it is.
func (t *TTYExec) resizeStarting(ctx context.Context, size TermSize) error {
	var err error
	for range ttyResizeAttempts {
		if err = t.Resize(ctx, size); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(ttyResizeRetry):
		}
	}
	return fmt.Errorf("setting the terminal size of the program in the box: %w", err)
}

// SizedAtCreate reports whether the engine took the terminal size with the
// create request (API 1.42 and later) instead of a resize after the start.
func (t *TTYExec) SizedAtCreate() bool { return t.sizedAtCreate }

// Read returns program output.
func (t *TTYExec) Read(p []byte) (int, error) { return t.conn.Reader.Read(p) }

// Write sends input to the program.
func (t *TTYExec) Write(p []byte) (int, error) { return t.conn.Conn.Write(p) }

// Resize changes the terminal's size; the program gets SIGWINCH.
func (t *TTYExec) Resize(ctx context.Context, size TermSize) error {
	if size.Cols <= 0 || size.Rows <= 0 {
		return fmt.Errorf("invalid terminal size %dx%d", size.Cols, size.Rows)
	}
	return t.d.API.ContainerExecResize(ctx, t.execID, container.ResizeOptions{Height: uint(size.Rows), Width: uint(size.Cols)})
}

// ExitCode waits briefly for the engine to mark the program ended and
// returns its exit status, or -1 when the engine does not tell.
func (t *TTYExec) ExitCode(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// The exec can still be marked running for a moment after its output
	// ends.
	for {
		inspect, err := t.d.API.ContainerExecInspect(ctx, t.execID)
		if err != nil {
			slog.Warn("reading the exit status of a terminal program", "exec", t.execID, "err", err)
			return -1
		}
		if !inspect.Running {
			return inspect.ExitCode
		}
		select {
		case <-ctx.Done():
			return -1
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Kill stops the program and every process it started: SIGTERM, then
// SIGKILL for whatever is left after killGrace. It returns once the program
// has ended or the grace period is over.
func (t *TTYExec) Kill(ended <-chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), killGrace+10*time.Second)
	defer cancel()
	signal := func(sig string) {
		script := `read -r pid <"$1" || exit 0; set -- ` + sig + ` "$pid"` + "\n" + assets.KillTreeScript
		cmd := []string{"/bin/sh", "-c", script, "killtree", t.pidFile}
		if _, err := t.d.ExecOutput(ctx, t.containerID, cmd, nil, nil); err != nil {
			slog.Warn("signalling a terminal program", "signal", sig, "exec", t.execID, "err", err)
		}
	}
	signal("TERM")
	select {
	case <-ended:
		return
	case <-time.After(killGrace):
	}
	signal("KILL")
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
	}
}

// Close ends the attachment. It does not stop the program; Kill does.
func (t *TTYExec) Close() {
	t.closeOnce.Do(func() {
		_ = t.conn.CloseWrite()
		t.conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = t.d.ExecOutput(ctx, t.containerID, []string{"rm", "-f", t.pidFile}, nil, nil)
	})
}

// InteractiveOptions describe a program that RunInteractive runs.
type InteractiveOptions struct {
	Cmd        []string
	Env        []string
	WorkingDir string
	// Input is sent to the program once it runs, before anything the user
	// types: the shell step's code.
	Input string
}

// RunInteractive runs a program in the box on term until the program exits,
// and returns its exit status. Resizes of term resize the program's
// terminal. When ctx ends or term is closed, the program and its children
// are stopped. The caller closes term afterwards; until then one goroutine
// may still be blocked in term.Read.
func (b *Box) RunInteractive(ctx context.Context, term Terminal, opts InteractiveOptions) (int, error) {
	tty, err := b.d.StartTTY(ctx, b.ID, TTYOptions{Cmd: opts.Cmd, Env: opts.Env, WorkingDir: opts.WorkingDir, Size: term.Size()})
	if err != nil {
		return -1, err
	}
	defer tty.Close()
	slog.Info("terminal program started", "exec", tty.execID, "cmd", opts.Cmd, "size", term.Size(), "sized_at_create", tty.sizedAtCreate)

	ended := make(chan struct{})
	go func() {
		defer close(ended)
		buf := make([]byte, ttyReadBuffer)
		for {
			n, err := tty.Read(buf)
			if n > 0 {
				if _, werr := term.Write(buf[:n]); werr != nil {
					slog.Debug("terminal closed while the program wrote", "exec", tty.execID, "err", werr)
				}
			}
			if err != nil {
				return
			}
		}
	}()

	if opts.Input != "" {
		if _, err := io.WriteString(tty, opts.Input); err != nil {
			slog.Warn("typing the input into the terminal program", "exec", tty.execID, "err", err)
		}
	}
	// hangup closes when the user's side of the terminal closed.
	hangup := make(chan struct{})
	go func() {
		defer close(hangup)
		_, err := io.Copy(tty, term)
		slog.Debug("terminal input ended", "exec", tty.execID, "err", err)
	}()
	go func() {
		for {
			select {
			case <-ended:
				return
			case size := <-term.Resized():
				if err := tty.Resize(context.Background(), size); err != nil {
					slog.Debug("resizing the terminal program", "exec", tty.execID, "size", size, "err", err)
				}
			}
		}
	}()

	select {
	case <-ended:
		return tty.ExitCode(context.Background()), nil
	case <-hangup:
		// A write to a program that just exited also ends the input copy:
		// give its output a moment to end before treating this as a hangup.
		select {
		case <-ended:
			return tty.ExitCode(context.Background()), nil
		case <-time.After(500 * time.Millisecond):
		}
		slog.Info("terminal closed while its program ran; stopping the program", "exec", tty.execID)
		tty.Kill(ended)
		return -1, errors.New("the terminal was closed while the program ran")
	case <-ctx.Done():
		tty.Kill(ended)
		return -1, context.Cause(ctx)
	}
}

// bashCandidates are the places DefaultShell looks for bash.
var bashCandidates = []string{"/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash"}

// DefaultShell returns the interactive shell for the box: bash when the box
// has an executable bash in a usual place, else /bin/sh. The box's sh checks
// with test -x, so no other tool is needed in the box.
func (b *Box) DefaultShell(ctx context.Context) []string {
	script := `for p in "$@"; do if test -x "$p"; then echo "$p"; exit 0; fi; done; exit 1`
	cmd := append([]string{"/bin/sh", "-c", script, "find-bash"}, bashCandidates...)
	res, err := b.d.ExecOutput(ctx, b.ID, cmd, nil, nil)
	if err == nil && res.ExitCode == 0 {
		if p := strings.TrimSpace(string(res.Stdout)); p != "" {
			return []string{p}
		}
	}
	return []string{"/bin/sh"}
}

// EnvList turns a captured environment into KEY=VALUE entries.
func EnvList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
