package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"

	"werk/assets"
)

const (
	// groupStreamWait bounds the wait for a stopped group's output to end. A
	// process that left the session (a daemon that called setsid) can keep the
	// output open after every member is gone.
	groupStreamWait = 5 * time.Second

	// groupStopSlack is added to the grace period to bound a stop: it covers
	// the exec round trip and the wait after SIGKILL (10 s in the script).
	groupStopSlack = 20 * time.Second

	// groupStartTimeout bounds the wait for a released exec to start the
	// command. It does not depend on the command, which starts after the
	// wait; only a box too busy to run a shell reaches it.
	groupStartTimeout = 30 * time.Second

	// launcherCloseWait bounds the wait for the launcher's helper execs to end
	// after their input is closed.
	launcherCloseWait = 5 * time.Second
)

// GroupSpec is the command a GroupLauncher starts.
type GroupSpec struct {
	// File is the guest path of the shell script to run. It runs with
	// /bin/bash when the box has it, else /bin/sh.
	File string
	// Dir is the guest working directory.
	Dir string
	// Env is added to the container's environment, as KEY=VALUE entries.
	Env []string
	// PIDPrefix starts the guest paths where the box records the session id
	// of each start (PIDPrefix.1, PIDPrefix.2, ...).
	PIDPrefix string
	// Sink receives the output lines of every start, each start's lines from
	// one goroutine.
	Sink LineSink
}

// GroupLauncher starts a command in the box, again and again, each time as
// the leader of a new session so that it and everything it starts can be
// signalled together. To make a restart cost a write instead of two exec
// round trips, it keeps the next exec started and waiting for its input, and
// stops sessions through one long-lived control shell.
type GroupLauncher struct {
	box  *Box
	spec GroupSpec

	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	count   int
	next    chan waitingExec
	control *controlShell
	closed  bool
}

// waitingExec is an exec in "wait" mode: started, and blocked until its
// input names the changed paths.
type waitingExec struct {
	group *ProcGroup
	token string
	err   error
}

// NewGroupLauncher starts the control shell and the first waiting exec.
func (b *Box) NewGroupLauncher(spec GroupSpec) (*GroupLauncher, error) {
	ctx, cancel := context.WithCancel(context.Background())
	l := &GroupLauncher{box: b, spec: spec, ctx: ctx, cancel: cancel}
	control, err := startControlShell(ctx, b)
	if err != nil {
		cancel()
		return nil, err
	}
	l.control = control
	l.prepare()
	return l, nil
}

// prepare starts the next waiting exec in the background.
func (l *GroupLauncher) prepare() {
	l.count++
	pidFile := l.spec.PIDPrefix + "." + strconv.Itoa(l.count)
	ready := make(chan waitingExec, 1)
	l.next = ready
	go func() {
		token := strings.TrimPrefix(newToken(), markerPrefix)
		cmd := []string{"/bin/sh", "-c", assets.ProcGroupScript, "procgroup", "wait", pidFile, l.spec.Dir, l.spec.File, token}
		g, err := l.box.startGroupExec(l.ctx, cmd, l.spec.Env, pidFile, token, l.spec.Sink)
		ready <- waitingExec{group: g, token: token, err: err}
	}()
}

// Launch starts the command once, with changed as WERK_CHANGED_PATHS, and
// returns when it runs. The paths must not contain newlines.
func (l *GroupLauncher) Launch(ctx context.Context, changed []string) (*ProcGroup, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, errors.New("starting a command: the launcher is closed")
	}
	var w waitingExec
	select {
	case w = <-l.next:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	l.prepare()
	if w.err == nil {
		w.err = w.group.release(changed, w.token)
	}
	if w.err != nil {
		// The exec made ahead failed (or died): wait for a new one once.
		if w.group != nil {
			w.group.close()
		}
		slog.Warn("the exec started ahead for the watched command failed; starting another", "err", w.err)
		select {
		case w = <-l.next:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
		l.prepare()
		if w.err == nil {
			w.err = w.group.release(changed, w.token)
		}
		if w.err != nil {
			if w.group != nil {
				w.group.close()
			}
			return nil, fmt.Errorf("starting %s in the box: %w", l.spec.File, w.err)
		}
	}
	w.group.control = l.control
	return w.group, nil
}

// Close ends the waiting exec and the control shell. Started commands are
// not touched: stop them first.
func (l *GroupLauncher) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	next := l.next
	l.mu.Unlock()

	select {
	case w := <-next:
		if w.err == nil {
			_ = w.group.conn.CloseWrite()
			w.group.waitDone(launcherCloseWait)
		}
	case <-time.After(launcherCloseWait):
	}
	l.control.close()
	l.cancel()
}

// ProcGroup is one start of a command as the leader of its own session.
type ProcGroup struct {
	box     *Box
	pidFile string
	conn    types.HijackedResponse
	execID  string
	control *controlShell

	// startToken is the line the waiting exec prints on stderr when the
	// command starts. read closes started when that line arrives.
	startToken string
	started    chan struct{}

	done     chan struct{}
	exitCode int

	closeOnce sync.Once
}

// StopResult is the outcome of ProcGroup.Stop.
type StopResult struct {
	// Killed is true when members outlived the grace period and got SIGKILL.
	Killed bool
	// Left lists guest PIDs that were still there after SIGKILL (for example
	// processes in uninterruptible sleep); normally empty.
	Left []string
	// ExitCode is the leader's exit status, -1 when unknown.
	ExitCode int
}

// startGroupExec creates and attaches an exec running cmd in wait mode; its
// input stays open for release.
func (b *Box) startGroupExec(ctx context.Context, cmd, env []string, pidFile, token string, sink LineSink) (*ProcGroup, error) {
	created, err := b.d.API.ContainerExecCreate(ctx, b.ID, container.ExecOptions{
		Cmd:          cmd,
		Env:          env,
		AttachStdin:  true,
		AttachStdout: true,
		AttachStderr: true,
	})
	if err != nil {
		return nil, fmt.Errorf("creating an exec in the box: %w", err)
	}
	conn, err := b.d.API.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("starting an exec in the box: %w", err)
	}
	g := &ProcGroup{box: b, pidFile: pidFile, conn: conn, execID: created.ID,
		startToken: token, started: make(chan struct{}), done: make(chan struct{}), exitCode: -1}
	go g.read(sink)
	return g, nil
}

// release sends a waiting exec the changed paths and the token that lets it
// start the command, and returns once the command runs.
func (g *ProcGroup) release(changed []string, token string) error {
	select {
	case <-g.done:
		return fmt.Errorf("the waiting exec ended with status %d", g.exitCode)
	default:
	}
	var sb strings.Builder
	for _, p := range changed {
		sb.WriteString(p)
		sb.WriteByte('\n')
	}
	sb.WriteString(token)
	sb.WriteByte('\n')
	if _, err := io.WriteString(g.conn.Conn, sb.String()); err != nil {
		return fmt.Errorf("writing to the waiting exec: %w", err)
	}
	if err := g.conn.CloseWrite(); err != nil {
		return fmt.Errorf("closing the input of the waiting exec: %w", err)
	}
	select {
	case <-g.started:
		return nil
	case <-g.done:
		return fmt.Errorf("the command ended with status %d before it started (its output is in the log)", g.exitCode)
	case <-time.After(groupStartTimeout):
		// NOTE: the command may still start later; the caller's stop of this
		// group then finds no PID file and leaves it running.
		return fmt.Errorf("the command did not start within %s", groupStartTimeout)
	}
}

// read copies the output to sink until every holder of the exec's output
// has closed it, then records the exit status.
func (g *ProcGroup) read(sink LineSink) {
	if sink == nil {
		sink = func(Stream, string) {}
	}
	startSeen := false
	errSink := func(stream Stream, text string) {
		if !startSeen && text == g.startToken {
			startSeen = true
			close(g.started)
			return
		}
		sink(stream, text)
	}
	stdout := &plainLineWriter{sink: sink, stream: Stdout}
	stderr := &plainLineWriter{sink: errSink, stream: Stderr}
	if _, err := stdcopyStdCopy(stdout, stderr, g.conn.Reader); err != nil {
		slog.Debug("watched command output ended", "exec", g.execID, "err", err)
	}
	stdout.flush()
	stderr.flush()
	g.close()
	g.exitCode = g.box.waitExecExit(g.execID)
	close(g.done)
}

// waitExecExit returns an exec's exit status, which the engine reports a
// moment after the output ends, or -1.
func (b *Box) waitExecExit(execID string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	delay := 2 * time.Millisecond
	for {
		inspect, err := b.d.API.ContainerExecInspect(ctx, execID)
		if err != nil {
			return -1
		}
		if !inspect.Running {
			return inspect.ExitCode
		}
		select {
		case <-ctx.Done():
			return -1
		case <-time.After(delay):
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}

func (g *ProcGroup) close() {
	g.closeOnce.Do(func() { g.conn.Close() })
}

// waitDone waits up to limit for the output to end, then cuts it.
func (g *ProcGroup) waitDone(limit time.Duration) {
	select {
	case <-g.done:
	case <-time.After(limit):
		slog.Warn("output of a stopped command stayed open; a process outside its session holds it", "exec", g.execID)
		g.close()
		<-g.done
	}
}

// Done is closed when the command's output has ended and its exit status is
// known: the leader exited and no member holds the output open.
func (g *ProcGroup) Done() <-chan struct{} { return g.done }

// ExitCode returns the leader's exit status after Done is closed; -1 when
// the engine did not report one. A leader killed by a signal has 128 plus
// the signal number.
func (g *ProcGroup) ExitCode() int {
	<-g.done
	return g.exitCode
}

// Stop sends signal (a name such as "INT") to every process of the group's
// session, gives them grace to end, sends SIGKILL to what is left, and
// returns after the members are gone and the output has ended. When ctx ends
// during the grace period, the rest of the group is killed at once.
func (g *ProcGroup) Stop(ctx context.Context, signal string, grace time.Duration) (StopResult, error) {
	verdict, err := g.signalSession(ctx, signal, grace)
	killed := false
	if err != nil && ctx.Err() != nil {
		// The caller is in a hurry: end the group without a grace period.
		killCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), groupStopSlack)
		defer cancel()
		verdict, err = g.stopByExec(killCtx, "KILL", 0)
		killed = true
	}
	if err != nil {
		return StopResult{ExitCode: -1}, err
	}
	res, err := parseVerdict(verdict)
	if err != nil {
		return res, fmt.Errorf("stopping the processes of %s: %w", g.pidFile, err)
	}
	res.Killed = res.Killed || killed
	g.waitDone(groupStreamWait)
	res.ExitCode = g.exitCode
	return res, nil
}

// signalSession runs the stop through the control shell, or through an exec
// of its own when there is no control shell or it failed.
func (g *ProcGroup) signalSession(ctx context.Context, signal string, grace time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, grace+groupStopSlack)
	defer cancel()
	if g.control != nil {
		verdict, err := g.control.stop(ctx, signal, grace, g.pidFile)
		if err == nil || ctx.Err() != nil {
			return verdict, err
		}
		slog.Warn("stopping through the control shell failed; using an exec", "err", err)
	}
	return g.stopByExec(ctx, signal, grace)
}

// stopByExec runs the stop mode of the group script in an exec of its own.
func (g *ProcGroup) stopByExec(ctx context.Context, signal string, grace time.Duration) (string, error) {
	cmd := []string{"/bin/sh", "-c", assets.ProcGroupScript, "procgroup", "stop", signal, hundredths(grace), g.pidFile}
	out, err := g.box.d.ExecOutput(ctx, g.box.ID, cmd, nil, nil)
	if err != nil {
		return "", fmt.Errorf("stopping the processes of %s with SIG%s: %w", g.pidFile, signal, err)
	}
	if out.ExitCode != 0 {
		return "", fmt.Errorf("stopping the processes of %s with SIG%s failed with status %d: %s",
			g.pidFile, signal, out.ExitCode, strings.TrimSpace(string(out.Stderr)))
	}
	return strings.TrimSpace(string(out.Stdout)), nil
}

func hundredths(d time.Duration) string { return strconv.FormatInt(d.Milliseconds()/10, 10) }

// parseVerdict reads what the stop mode of the group script printed.
func parseVerdict(verdict string) (StopResult, error) {
	fields := strings.Fields(verdict)
	res := StopResult{ExitCode: -1}
	switch {
	case len(fields) == 0:
		return res, errors.New("the box script printed nothing")
	case fields[0] == "exited":
	case fields[0] == "killed":
		res.Killed = true
	case fields[0] == "left":
		res.Killed = true
		res.Left = fields[1:]
	default:
		return res, fmt.Errorf("unexpected output %q from the box script", verdict)
	}
	return res, nil
}

// controlShell is a long-lived exec of the group script in serve mode, which
// stops sessions on request without an exec round trip per stop.
type controlShell struct {
	conn   types.HijackedResponse
	execID string
	lines  chan string
	ended  chan struct{}

	mu sync.Mutex
}

func startControlShell(ctx context.Context, b *Box) (*controlShell, error) {
	created, err := b.d.API.ContainerExecCreate(ctx, b.ID, container.ExecOptions{
		Cmd:          []string{"/bin/sh", "-c", assets.ProcGroupScript, "procgroup", "serve"},
		AttachStdin:  true,
		AttachStdout: true,
		AttachStderr: true,
	})
	if err != nil {
		return nil, fmt.Errorf("starting werk's control shell in the box: %w", err)
	}
	conn, err := b.d.API.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("attaching to werk's control shell in the box: %w", err)
	}
	c := &controlShell{conn: conn, execID: created.ID, lines: make(chan string, 16), ended: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *controlShell) read() {
	sink := func(stream Stream, text string) {
		if stream == Stderr {
			slog.Warn("werk's control shell", "exec", c.execID, "stderr", text)
			return
		}
		select {
		case c.lines <- text:
		default:
			slog.Warn("dropping a line of werk's control shell that no request waits for", "line", text)
		}
	}
	stdout := &plainLineWriter{sink: sink, stream: Stdout}
	stderr := &plainLineWriter{sink: sink, stream: Stderr}
	_, _ = stdcopyStdCopy(stdout, stderr, c.conn.Reader)
	close(c.ended)
}

// stop sends the control shell a stop request for the session recorded in
// pidFile and returns the verdict.
func (c *controlShell) stop(ctx context.Context, signal string, grace time.Duration, pidFile string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	token := strings.TrimPrefix(newToken(), markerPrefix)
	request := fmt.Sprintf("stop %s %s %s %s\n", signal, hundredths(grace), pidFile, token)
	if _, err := io.WriteString(c.conn.Conn, request); err != nil {
		return "", fmt.Errorf("writing to werk's control shell: %w", err)
	}
	for {
		select {
		case line := <-c.lines:
			if verdict, ok := strings.CutPrefix(line, token+" "); ok {
				return verdict, nil
			}
		case <-c.ended:
			return "", errors.New("werk's control shell in the box ended")
		case <-ctx.Done():
			return "", context.Cause(ctx)
		}
	}
}

// close ends the control shell: it reads end of input and exits.
func (c *controlShell) close() {
	_ = c.conn.CloseWrite()
	select {
	case <-c.ended:
	case <-time.After(launcherCloseWait):
	}
	c.conn.Close()
}
