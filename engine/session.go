package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"werk/assets"
)

const (
	// markerPrefix starts every end-of-command marker; the rest is random per
	// command, so no step output can end a command by accident.
	markerPrefix = "__werk_mark_"

	// secondMarkerWait bounds the wait for the marker on the second stream once
	// the first arrived. Both are written back to back by the same shell.
	secondMarkerWait = 2 * time.Second

	// partialLineDelay is how long an unterminated line (a prompt, a progress
	// bar) waits for its newline before it is shown as a line of its own.
	partialLineDelay = 250 * time.Millisecond

	// redrawnLineDelay replaces partialLineDelay for an unterminated line
	// that contains a carriage return, such as a progress bar redrawn a few
	// times a second.
	redrawnLineDelay = 5 * time.Second

	// maxLineBytes caps one log line; longer output is split into lines of
	// this size so one huge line cannot exhaust memory.
	maxLineBytes = 256 * 1024

	// killGrace is how long the processes of a stopped step get between
	// SIGTERM and SIGKILL.
	killGrace = 3 * time.Second
)

// LineSink receives the output of whatever a session is running.
type LineSink func(stream Stream, text string)

// ErrShellExited means the step's shell ended before the step printed its
// end marker: the step called exit, or failed under set -e.
var ErrShellExited = errors.New("the step's shell exited")

// TimeoutError reports which limit stopped a step.
type TimeoutError struct {
	Limit    string // "no-response-timeout" or "command-timeout"
	Duration time.Duration
}

func (e *TimeoutError) Error() string {
	if e.Limit == "no-response-timeout" {
		return fmt.Sprintf("no output for %s: the step was stopped by the no-response timeout "+
			"(raise it with no-response-timeout in wercker.yml, in minutes, or --no-response-timeout)", e.Duration)
	}
	return fmt.Sprintf("the step ran longer than %s: it was stopped by the command timeout "+
		"(raise it with command-timeout in wercker.yml, in minutes, or --command-timeout)", e.Duration)
}

// Timeouts bound a step; zero means no limit.
type Timeouts struct {
	NoResponse time.Duration
	Command    time.Duration
}

type marker struct {
	token  string
	stream Stream
	code   int
}

// session is one long-lived shell in the box container, attached through an
// exec without a TTY. Commands are written to its stdin one at a time; each
// ends with a marker line that carries its status.
type session struct {
	d           *Docker
	containerID string
	execID      string
	conn        types.HijackedResponse
	pid         string

	token    atomic.Value // string: the marker of the running command
	sinkMu   sync.Mutex
	sink     LineSink
	markers  chan marker
	activity chan struct{}
	ended    chan struct{}
	stdout   *lineWriter
	stderr   *lineWriter

	// partial wakes flushPartialLines when output ends without a newline.
	partial chan struct{}
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return markerPrefix + hex.EncodeToString(b)
}

// startSession starts shell in the container with env, loads werk's session
// functions and the wercker helper functions, and records the shell's PID.
func startSession(ctx context.Context, d *Docker, containerID string, shell []string, env []string) (*session, error) {
	created, err := d.API.ContainerExecCreate(ctx, containerID, container.ExecOptions{
		Cmd:          shell,
		Env:          env,
		AttachStdin:  true,
		AttachStdout: true,
		AttachStderr: true,
	})
	if err != nil {
		return nil, fmt.Errorf("starting the step shell %q: %w", strings.Join(shell, " "), err)
	}
	conn, err := d.API.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("attaching to the step shell: %w", err)
	}
	s := &session{
		d:           d,
		containerID: containerID,
		execID:      created.ID,
		conn:        conn,
		markers:     make(chan marker, 8),
		activity:    make(chan struct{}, 1),
		partial:     make(chan struct{}, 1),
		ended:       make(chan struct{}),
	}
	s.token.Store("")
	s.stdout = &lineWriter{s: s, stream: Stdout}
	s.stderr = &lineWriter{s: s, stream: Stderr}
	go s.read()
	go s.flushPartialLines()

	var setup bytes.Buffer
	setup.WriteString(assets.SessionScript)
	setup.WriteString("\n")
	setup.WriteString(assets.InitScript)
	setup.WriteString("\n")
	tok := newToken()
	s.token.Store(tok)
	fmt.Fprintf(&setup, "__werk_token=%s; __werk_done $$\n", tok)

	var startup []string
	s.setSink(func(_ Stream, text string) { startup = append(startup, text) })
	if _, err := conn.Conn.Write(setup.Bytes()); err != nil {
		s.close()
		return nil, fmt.Errorf("writing to the step shell: %w", err)
	}
	code, err := s.wait(ctx, tok, Timeouts{Command: 30 * time.Second})
	if err != nil {
		s.close()
		if errors.Is(err, ErrShellExited) {
			return nil, fmt.Errorf("the step shell %q exited with status %d before it could run a step (output: %s); "+
				"the box needs a POSIX shell: set box cmd to one, such as /bin/sh",
				strings.Join(shell, " "), code, strings.Join(startup, " | "))
		}
		return nil, fmt.Errorf("starting the step shell: %w", err)
	}
	s.pid = strconv.Itoa(code)
	s.setSink(nil)
	return s, nil
}

func (s *session) setSink(sink LineSink) {
	s.sinkMu.Lock()
	s.sink = sink
	s.sinkMu.Unlock()
}

func (s *session) emit(stream Stream, text string) {
	s.sinkMu.Lock()
	sink := s.sink
	s.sinkMu.Unlock()
	if sink != nil {
		sink(stream, text)
	}
}

func (s *session) read() {
	_, err := stdcopy.StdCopy(s.stdout, s.stderr, s.conn.Reader)
	if err != nil {
		slog.Debug("step shell output ended", "exec", s.execID, "err", err)
	}
	s.stdout.flush()
	s.stderr.flush()
	close(s.ended)
}

// flushPartialLines shows an unterminated line once no output followed it
// for partialLineDelay. Its timer runs only while such a line waits, so an
// idle step shell costs no CPU.
func (s *session) flushPartialLines() {
	timer := time.NewTimer(partialLineDelay)
	timer.Stop()
	for {
		select {
		case <-s.ended:
			timer.Stop()
			return
		case <-s.partial:
			timer.Reset(partialLineDelay)
		case <-timer.C:
			s.stdout.flushIfIdle()
			s.stderr.flushIfIdle()
			if s.stdout.hasPartial() || s.stderr.hasPartial() {
				timer.Reset(partialLineDelay)
			}
		}
	}
}

// run sends one command line and waits for its marker.
func (s *session) run(ctx context.Context, command string, sink LineSink, limits Timeouts) (int, error) {
	select {
	case <-s.ended:
		return -1, ErrShellExited
	default:
	}
	tok := newToken()
	s.token.Store(tok)
	s.setSink(sink)
	defer s.setSink(nil)
	line := fmt.Sprintf("__werk_token=%s; %s\n", tok, command)
	if _, err := s.conn.Conn.Write([]byte(line)); err != nil {
		return -1, fmt.Errorf("writing to the step shell: %w", err)
	}
	return s.wait(ctx, tok, limits)
}

// wait blocks until the command with marker tok ends, the shell exits, a
// limit is hit, or ctx ends. On a limit or ctx it kills the shell's processes.
func (s *session) wait(ctx context.Context, tok string, limits Timeouts) (int, error) {
	var noResponse, command <-chan time.Time
	var noResponseTimer *time.Timer
	if limits.NoResponse > 0 {
		noResponseTimer = time.NewTimer(limits.NoResponse)
		defer noResponseTimer.Stop()
		noResponse = noResponseTimer.C
	}
	if limits.Command > 0 {
		t := time.NewTimer(limits.Command)
		defer t.Stop()
		command = t.C
	}
	seen := map[Stream]bool{}
	code := 0
	var second <-chan time.Time
	for {
		select {
		case m := <-s.markers:
			if m.token != tok {
				continue
			}
			seen[m.stream] = true
			code = m.code
			if seen[Stdout] && seen[Stderr] {
				return code, nil
			}
			if second == nil {
				second = time.After(secondMarkerWait)
			}
		case <-second:
			return code, nil
		case <-s.activity:
			if noResponseTimer != nil {
				if !noResponseTimer.Stop() {
					select {
					case <-noResponseTimer.C:
					default:
					}
				}
				noResponseTimer.Reset(limits.NoResponse)
			}
		case <-s.ended:
			return s.exitCode(), ErrShellExited
		case <-noResponse:
			s.kill()
			return -1, &TimeoutError{Limit: "no-response-timeout", Duration: limits.NoResponse}
		case <-command:
			s.kill()
			return -1, &TimeoutError{Limit: "command-timeout", Duration: limits.Command}
		case <-ctx.Done():
			s.kill()
			return -1, context.Cause(ctx)
		}
	}
}

// exitCode returns the shell's exit status after it ended, or -1.
func (s *session) exitCode() int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The exec can still be marked running for a moment after its output ends.
	for i := 0; i < 50; i++ {
		inspect, err := s.d.API.ContainerExecInspect(ctx, s.execID)
		if err != nil {
			return -1
		}
		if !inspect.Running {
			return inspect.ExitCode
		}
		time.Sleep(20 * time.Millisecond)
	}
	return -1
}

// kill ends the shell and every process it started: SIGTERM, then SIGKILL for
// whatever is left after killGrace.
func (s *session) kill() {
	if s.pid == "" {
		s.close()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), killGrace+10*time.Second)
	defer cancel()
	signal := func(sig string) {
		cmd := []string{"/bin/sh", "-c", assets.KillTreeScript, "killtree", sig, s.pid}
		if _, err := s.d.ExecOutput(ctx, s.containerID, cmd, nil, nil); err != nil {
			slog.Warn("signalling step processes", "signal", sig, "pid", s.pid, "err", err)
		}
	}
	signal("TERM")
	select {
	case <-s.ended:
		return
	case <-time.After(killGrace):
	}
	signal("KILL")
	select {
	case <-s.ended:
	case <-time.After(5 * time.Second):
		s.close()
	}
}

// close ends the attach; the shell gets EOF on stdin and exits.
func (s *session) close() {
	_ = s.conn.CloseWrite()
	s.conn.Close()
}

// lineWriter splits one output stream into lines, finds end markers, and
// passes the rest to the session's sink.
type lineWriter struct {
	s         *session
	stream    Stream
	mu        sync.Mutex
	buf       []byte
	lastWrite time.Time
}

func (w *lineWriter) Write(p []byte) (int, error) {
	select {
	case w.s.activity <- struct{}{}:
	default:
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lastWrite = time.Now()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	for len(w.buf) >= maxLineBytes {
		w.line(string(w.buf[:maxLineBytes]))
		w.buf = w.buf[maxLineBytes:]
	}
	if len(w.buf) == 0 {
		w.buf = nil
	} else {
		select {
		case w.s.partial <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// hasPartial reports whether an unterminated line waits in the buffer.
func (w *lineWriter) hasPartial() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.buf) > 0
}

func (w *lineWriter) line(text string) {
	text = strings.TrimSuffix(text, "\r")
	tok, _ := w.s.token.Load().(string)
	if tok != "" {
		if i := strings.Index(text, tok+" "); i >= 0 {
			if i > 0 {
				w.s.emit(w.stream, text[:i])
			}
			code, err := strconv.Atoi(strings.TrimSpace(text[i+len(tok)+1:]))
			if err != nil {
				code = -1
			}
			select {
			case w.s.markers <- marker{token: tok, stream: w.stream, code: code}:
			default:
				slog.Warn("dropping an end marker that no command waits for", "exec", w.s.execID)
			}
			return
		}
	}
	w.s.emit(w.stream, text)
}

func (w *lineWriter) flushIfIdle() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) == 0 || time.Since(w.lastWrite) < partialLineDelay {
		return
	}
	// A line that redraws itself with carriage returns is a progress bar:
	// hold it until its newline, so it stays one line, unless it stalls.
	if bytes.IndexByte(w.buf, '\r') >= 0 && time.Since(w.lastWrite) < redrawnLineDelay {
		return
	}
	// A marker is always written whole with its newline; never split one.
	if bytes.Contains(w.buf, []byte(markerPrefix[:6])) {
		return
	}
	w.line(string(w.buf))
	w.buf = nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}
