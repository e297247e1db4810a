package tui

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"

	"werk/engine"
)

// Options configure the terminal app.
type Options struct {
	// Command is "build", "dev" or "deploy", shown in the status bar.
	Command string
	// WorkingDir is werk's working directory; saved logs go to its logs
	// folder.
	WorkingDir string
	// CanRerun enables the rerun key (werk dev).
	CanRerun bool
	// RestartOnConfigChange reruns the pipeline when wercker.yml changes
	// and is valid, as the rerun key does, in any command.
	RestartOnConfigChange bool
	// Color styles the summary that PrintSummary prints.
	Color  bool
	Limits Limits
	// Input and Output default to the process's terminal.
	Input  io.Reader
	Output io.Writer
}

// App is the full-screen terminal app that shows runs of a pipeline.
//
// Use it as: New, then Follow with the lossy subscription of each run's bus
// before that run starts, Run on one goroutine until the user quits, and
// PrintSummary once the last run's subscription has closed.
type App struct {
	bridge  *bridge
	program *tea.Program
	started atomic.Bool
}

// New returns an app that sends the user's requests to ctrl.
func New(ctrl Controller, opts Options) *App {
	b := newBridge(opts.Color)
	m := newModel(ctrl, opts, b.next)
	return newApp(m, b, opts)
}

func newApp(m tea.Model, b *bridge, opts Options) *App {
	// werk handles SIGINT, SIGTERM and SIGHUP itself: they stop the run
	// before the app may quit. Run recovers panics itself: Bubble Tea's
	// recovery closes the terminal's file while its input goroutine still
	// reads it (a data race in bubbletea v2.1.1).
	progOpts := []tea.ProgramOption{tea.WithoutSignalHandler(), tea.WithoutCatchPanics()}
	if opts.Input != nil {
		progOpts = append(progOpts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		progOpts = append(progOpts, tea.WithOutput(opts.Output))
	}
	return &App{bridge: b, program: tea.NewProgram(m, progOpts...)}
}

// Subscribe adds the app's lossy subscription to bus. When the screen falls
// behind, log lines are dropped from the view (and counted there), never
// from the bus's other subscribers.
func Subscribe(bus *engine.Bus) *engine.Subscription {
	return bus.Subscribe(subscriptionBuffer, true)
}

// Follow shows the events of sub, one run's subscription from Subscribe,
// until its channel closes; the returned channel closes then.
func (a *App) Follow(sub *engine.Subscription) <-chan struct{} {
	return a.bridge.follow(sub)
}

// ErrPanic is returned by Run when the app panicked. The terminal is
// restored and the panic with its stack is printed to standard error.
var ErrPanic = errors.New("the terminal UI crashed")

// Run shows the app until the user quits, and restores the terminal before
// it returns, also when the app's update or drawing panicked (then it
// returns ErrPanic). A panic in one of the app's commands, which run on
// goroutines of their own, ends werk; the terminal guard restores the
// terminal then.
func (a *App) Run() (err error) {
	a.started.Store(true)
	defer a.bridge.close()
	defer func() {
		if r := recover(); r != nil {
			_ = a.program.ReleaseTerminal()
			fmt.Fprintf(os.Stderr, "werk: the terminal UI crashed: %v\n%s", r, debug.Stack())
			slog.Error("terminal UI panicked", "panic", fmt.Sprint(r))
			err = ErrPanic
		}
	}()
	_, err = a.program.Run()
	if errors.Is(err, tea.ErrProgramKilled) {
		// Kill was called: the caller is exiting on purpose.
		return nil
	}
	return err
}

// QuitAfterRun makes the app quit once the current run has ended, at once
// when none runs. werk uses it for SIGTERM and SIGHUP.
func (a *App) QuitAfterRun() {
	go a.program.Send(quitAfterRunMsg{})
}

// releaseTimeout bounds the wait for Bubble Tea to hand the terminal back
// on a forced exit.
const releaseTimeout = time.Second

// Kill restores the terminal at once and ends Run, for a forced exit.
func (a *App) Kill() {
	if a.started.Load() {
		// Releasing the terminal first waits for the input goroutine,
		// which Program.Kill alone does not. Before Run, there is no
		// renderer to stop and the release would wait for one forever.
		released := make(chan struct{})
		go func() {
			_ = a.program.ReleaseTerminal()
			close(released)
		}()
		select {
		case <-released:
		case <-time.After(releaseTimeout):
		}
	}
	a.program.Kill()
	a.bridge.close()
}

// PrintSummary prints the summary of the last run, ending in v, to w: one
// line per step and the result, as the plain printer does.
func (a *App) PrintSummary(w io.Writer, v engine.RunFinished) {
	a.bridge.mu.Lock()
	defer a.bridge.mu.Unlock()
	a.bridge.summary.PrintSummary(w, v)
}
